//! The council: quorum, the decision on each program, the printable protocol.

use pd_proto::registry::v1 as pb;

/// Votes needed on a program for its decision to count: more than
/// `fraction` of the session's members.
pub fn quorum(members: usize, fraction: f64) -> i32 {
    let q = (members as f64 * fraction.clamp(0.0, 1.0)).floor() as i32 + 1;
    q.min(members as i32).max(1)
}

/// `Some(true)` when included: the votes for are a majority of the votes
/// cast (a tie is not). `None` without a quorum.
pub fn decide(votes_for: i32, against: i32, abstain: i32, quorum: i32) -> Option<bool> {
    let cast = votes_for + against + abstain;
    (cast >= quorum).then_some(votes_for * 2 > cast)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The protocol as a printable page.
pub fn html(p: &pb::Protocol) -> String {
    let mut rows = String::new();
    for (i, e) in p.entries.iter().enumerate() {
        let by_criterion: Vec<String> = e
            .criterion_means
            .iter()
            .map(|m| format!("{}: {:.1}", escape(&m.criterion), m.mean))
            .collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}<br><small>{}</small></td><td>{} / {}</td><td>{} / {} / {}</td><td>{}</td></tr>\n",
            i + 1,
            escape(&e.direction),
            escape(&e.title),
            escape(&e.provider_name),
            e.mean_score_percent,
            by_criterion.join("; "),
            e.expert_include,
            e.expert_exclude,
            e.votes_for,
            e.votes_against,
            e.votes_abstain,
            if e.decision == "included" { "включить в реестр" } else { "не включать" }
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Протокол заседания Экспертного совета</title>
<style>body{{font-family:serif;margin:2cm}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #000;padding:4px;font-size:11pt}}@media print{{body{{margin:1cm}}}}</style>
</head><body>
<h1>Протокол заседания Экспертного совета</h1>
<p>{campaign}</p>
<p>Дата заседания: {date}. Членов совета: {members}. Кворум: {quorum}.</p>
<table><thead><tr><th>№</th><th>Направление</th><th>Программа</th><th>Организация</th><th>Средний балл, %</th><th>Заключения экспертов: включить / не включать</th><th>Голоса: за / против / воздержались</th><th>Решение</th></tr></thead>
<tbody>
{rows}</tbody></table>
<p>Статус: {status}</p>
</body></html>
"#,
        campaign = escape(&p.campaign_title),
        date = escape(&p.held_on),
        members = p.members,
        quorum = p.quorum,
        status = if p.status == "approved" {
            "утверждён президиумом"
        } else {
            "направлен на утверждение в президиум"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_more_than_the_fraction() {
        assert_eq!(quorum(3, 0.5), 2);
        assert_eq!(quorum(4, 0.5), 3);
        assert_eq!(quorum(1, 0.5), 1);
    }

    #[test]
    fn majority_of_votes_cast_ties_fail() {
        assert_eq!(decide(2, 1, 0, 2), Some(true));
        assert_eq!(decide(1, 1, 0, 2), Some(false));
        assert_eq!(decide(1, 0, 1, 2), Some(false));
        assert_eq!(decide(1, 0, 0, 2), None);
    }

    #[test]
    fn the_page_escapes_what_providers_wrote() {
        let p = pb::Protocol {
            entries: vec![pb::ProtocolEntry {
                title: "<script>".into(),
                decision: "included".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let h = html(&p);
        assert!(h.contains("&lt;script&gt;") && !h.contains("<script>"));
    }
}
