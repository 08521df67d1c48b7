//! Certificates and transcripts as people see them: the printable
//! document and the public verification page. Plain HTML with its styles
//! inline (no external fonts or scripts: regional intranets); Russian
//! text, as on the paper documents.

use pd_proto::monitoring::v1 as pb;
use printpdf::{Mm, PdfDocument, Rect};

/// DejaVu Serif (free licence, `assets/fonts/DejaVu-LICENSE`): embedded so
/// a PDF shows Cyrillic on any machine, with no font on the server.
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSerif.ttf");

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The document as an A4 PDF: the same text as the printable page, the
/// verification code, link and QR code.
pub fn pdf(d: &pb::Document, link: &str) -> anyhow::Result<Vec<u8>> {
    let (doc, page, layer) = PdfDocument::new(kind_title(&d.kind), Mm(210.0), Mm(297.0), "text");
    let font = doc.add_external_font(std::io::Cursor::new(FONT))?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut y = 270.0;
    let line = |text: &str, size: f32, y: &mut f32| {
        // About 80 characters of 11 pt fit the 170 mm line.
        let width = (880.0 / size) as usize;
        let chars: Vec<char> = text.chars().collect();
        for chunk in chars.chunks(width.max(20)) {
            let s: String = chunk.iter().collect();
            layer.use_text(s, size, Mm(20.0), Mm(*y), &font);
            *y -= size * 0.5;
        }
    };
    line(kind_title(&d.kind), 18.0, &mut y);
    y -= 6.0;
    let mut fields = vec![
        ("Выдан", d.holder_name.clone()),
        ("Программа", d.program_title.clone()),
        ("Объём", format!("{} ч.", d.hours)),
        (
            "Период обучения",
            format!("{} — {}", d.starts_on, d.ends_on),
        ),
        ("Организация", d.provider_name.clone()),
    ];
    if !d.document_number.is_empty() {
        fields.push((
            "Документ организации",
            format!(
                "{} {} от {}",
                d.document_series, d.document_number, d.issued_on
            ),
        ));
    }
    for (label, value) in fields {
        line(&format!("{label}: {value}"), 11.0, &mut y);
        y -= 2.0;
    }
    if !d.modules.is_empty() {
        y -= 4.0;
        line("Освоенные модули:", 11.0, &mut y);
        for m in &d.modules {
            line(
                &format!("{} — {} ч., {}", m.name, m.hours, m.credited_on),
                11.0,
                &mut y,
            );
        }
    }
    if !d.revoked_at.is_empty() {
        y -= 4.0;
        line(
            &format!("Документ отозван: {}", d.revoke_reason),
            11.0,
            &mut y,
        );
    }
    y -= 6.0;
    line(&format!("Код проверки: {}", d.code), 12.0, &mut y);
    line(&format!("Проверить подлинность: {link}"), 10.0, &mut y);
    // The QR code below the text, 1.2 mm a module.
    if let Ok(code) = qrcode::QrCode::new(link.as_bytes()) {
        let width = code.width();
        let (module, top) = (1.2, y - 8.0);
        for (i, color) in code.to_colors().iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (col, row) = ((i % width) as f32, (i / width) as f32);
                let x = 20.0 + col * module;
                let y = top - row * module;
                layer.add_rect(Rect::new(Mm(x), Mm(y - module), Mm(x + module), Mm(y)));
            }
        }
    }
    Ok(doc.save_to_bytes()?)
}

/// The verification link as a QR code (inline SVG), to be scanned off paper.
fn qr(link: &str) -> String {
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(160, 160)
            .build(),
        Err(_) => String::new(),
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
<style>body{{font-family:serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#111}}\
h1{{font-size:1.6rem;text-align:center}}dt{{font-weight:bold;margin-top:.6rem}}\
.code{{font-family:monospace;font-size:1.2rem}}.bad{{color:#a00}}.ok{{color:#060}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #444;padding:.2rem .5rem}}\
@media print{{a{{color:#000;text-decoration:none}}}}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// The verification link: under the configured public address, else
/// the address the request came to (its `Host`), else the path alone.
pub fn link(d: &pb::Document, public_url: &str, host: &str) -> String {
    if !public_url.is_empty() {
        format!("{public_url}{}", d.verify_path)
    } else if host.is_empty() {
        d.verify_path.clone()
    } else {
        format!("http://{host}{}", d.verify_path)
    }
}

fn kind_title(kind: &str) -> &'static str {
    match kind {
        "transcript" => "Справка об освоенных модулях",
        _ => "Сертификат о повышении квалификации",
    }
}

/// The printable document. `host` makes the verification link absolute
/// when the request named one.
pub fn printable(d: &pb::Document, link: &str) -> String {
    let link = link.to_owned();
    let mut body = format!(
        "<h1>{}</h1><dl><dt>Выдан</dt><dd>{}</dd><dt>Программа</dt><dd>{}</dd>\
<dt>Объём</dt><dd>{} ч.</dd><dt>Период обучения</dt><dd>{} — {}</dd><dt>Организация</dt><dd>{}</dd>",
        kind_title(&d.kind),
        escape(&d.holder_name),
        escape(&d.program_title),
        d.hours,
        escape(&d.starts_on),
        escape(&d.ends_on),
        escape(&d.provider_name),
    );
    if !d.document_number.is_empty() {
        body.push_str(&format!(
            "<dt>Документ организации</dt><dd>{} {} от {}</dd>",
            escape(&d.document_series),
            escape(&d.document_number),
            escape(&d.issued_on)
        ));
    }
    body.push_str("</dl>");
    if !d.modules.is_empty() {
        body.push_str("<h2>Освоенные модули</h2><table><tr><th>Модуль</th><th>Часы</th><th>Дата зачёта</th></tr>");
        for m in &d.modules {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&m.name),
                m.hours,
                escape(&m.credited_on)
            ));
        }
        body.push_str("</table>");
    }
    if !d.revoked_at.is_empty() {
        body.push_str(&format!(
            "<p class=\"bad\">Документ отозван: {}</p>",
            escape(&d.revoke_reason)
        ));
    }
    body.push_str(&format!(
        "<p>Код проверки: <span class=\"code\">{}</span><br>Проверить подлинность: <a href=\"{}\">{}</a></p>\
<figure aria-label=\"QR-код ссылки для проверки\">{}</figure>",
        escape(&d.code),
        escape(&link),
        escape(&link),
        qr(&link)
    ));
    page(kind_title(&d.kind), &body)
}

/// The public page: what the code stands for, or that it is unknown or revoked.
pub fn verification_page(v: &pb::Verification) -> String {
    let body = match v.status.as_str() {
        "unknown" => format!(
            "<h1>Проверка документа</h1><p class=\"bad\">Документ с кодом <span class=\"code\">{}</span> не найден. Проверьте код.</p>",
            escape(&v.code)
        ),
        status => {
            let verdict = if status == "revoked" {
                format!(
                    "<p class=\"bad\">Документ отозван {}: {}</p>",
                    escape(v.revoked_at.get(..10).unwrap_or("")),
                    escape(&v.revoke_reason)
                )
            } else {
                "<p class=\"ok\">Документ действителен.</p>".to_owned()
            };
            format!(
                "<h1>Проверка документа</h1>{verdict}<dl><dt>Код</dt><dd class=\"code\">{}</dd>\
<dt>Документ</dt><dd>{}</dd><dt>Владелец</dt><dd>{}</dd><dt>Программа</dt><dd>{}</dd>\
<dt>Объём</dt><dd>{} ч.</dd><dt>Период обучения</dt><dd>{} — {}</dd><dt>Организация</dt><dd>{}</dd>\
<dt>Номер документа</dt><dd>{}</dd></dl>",
                escape(&v.code),
                kind_title(&v.kind),
                escape(&v.holder),
                escape(&v.program_title),
                v.hours,
                escape(&v.starts_on),
                escape(&v.ends_on),
                escape(&v.provider_name),
                escape(&v.document_number),
            )
        }
    };
    page("Проверка документа", &body)
}
