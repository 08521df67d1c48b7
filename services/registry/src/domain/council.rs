//! The council: quorum, the decision on each program, the printable protocol.

use pd_proto::registry::v1 as pb;
use uuid::Uuid;

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

/// Every status a session passes through (the `status` filter of lists).
pub const STATUSES: [&str; 4] = ["open", "closed", "approved", "cancelled"];

/// Who sat at the session, in the order of the seats: the chair, the
/// secretary, the members; each marked present or not.
pub fn attendance(
    members: &[Uuid],
    chair: Uuid,
    secretary: Uuid,
    present: &[Uuid],
) -> Vec<pb::ProtocolMember> {
    let role = |m: &Uuid| {
        if *m == chair {
            (0, "chair")
        } else if *m == secretary {
            (1, "secretary")
        } else {
            (2, "member")
        }
    };
    let mut seats: Vec<&Uuid> = members.iter().collect();
    seats.sort_by_key(|m| (role(m).0, **m));
    seats
        .into_iter()
        .map(|m| pb::ProtocolMember {
            user_id: m.to_string(),
            role: role(m).1.to_owned(),
            present: present.contains(m),
            name: String::new(),
        })
        .collect()
}

fn vote_word(v: &str) -> &'static str {
    match v {
        "for" => "за",
        "against" => "против",
        _ => "воздержался",
    }
}

fn role_word(r: &str) -> &'static str {
    match r {
        "chair" => "председатель",
        "secretary" => "секретарь",
        _ => "член совета",
    }
}

/// The protocol as a printable page.
pub fn html(p: &pb::Protocol) -> String {
    let name_of = |code: &str| {
        p.criteria
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    let mut rows = String::new();
    for (i, e) in p.entries.iter().enumerate() {
        let by_criterion: Vec<String> = e
            .criterion_means
            .iter()
            .map(|m| {
                let name = if m.name.is_empty() {
                    name_of(&m.criterion)
                } else {
                    m.name.clone()
                };
                format!("{}: {:.1}", escape(&name), m.mean)
            })
            .collect();
        let conclusions: Vec<String> = e
            .expert_conclusions
            .iter()
            .map(|c| {
                format!(
                    "{} — {} ({:.1} %){}",
                    escape(&c.expert_id),
                    if c.conclusion == "include" {
                        "включить"
                    } else {
                        "не включать"
                    },
                    c.score_percent,
                    if c.comment.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", escape(&c.comment))
                    }
                )
            })
            .collect();
        let votes: Vec<String> = e
            .member_votes
            .iter()
            .map(|v| format!("{} — {}", escape(&v.member_id), vote_word(&v.vote)))
            .collect();
        let mut decision = if e.decision == "included" {
            "включить в реестр".to_owned()
        } else {
            "не включать".to_owned()
        };
        if e.overturned {
            decision.push_str(" (вопреки заключению экспертизы)");
        }
        if e.excluded {
            decision.push_str(&format!(
                "<br><b>исключена президиумом:</b> {}",
                escape(&e.exclusion_reason)
            ));
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}<br>{:.1}<br><small>{}</small><br><small>{}</small></td><td>{} / {}</td><td>{} / {} / {}<br><small>{}</small></td><td>{}</td></tr>\n",
            i + 1,
            escape(&e.direction),
            escape(&e.title),
            escape(&e.provider_name),
            if e.expert_outcome == "rejected" { "не прошла экспертизу" } else { "прошла экспертизу" },
            e.mean_score_percent,
            by_criterion.join("; "),
            conclusions.join("<br>"),
            e.expert_include,
            e.expert_exclude,
            e.votes_for,
            e.votes_against,
            e.votes_abstain,
            votes.join("<br>"),
            decision,
        ));
    }
    let attendance: Vec<String> = p
        .attendance
        .iter()
        .map(|m| {
            format!(
                "<li>{} — {}{}</li>",
                escape(if m.name.is_empty() {
                    &m.user_id
                } else {
                    &m.name
                }),
                role_word(&m.role),
                if m.present {
                    ""
                } else {
                    " (отсутствовал)"
                }
            )
        })
        .collect();
    let criteria: Vec<String> = p
        .criteria
        .iter()
        .map(|c| format!("<li>{} (до {} баллов)</li>", escape(&c.name), c.max_score))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Протокол № {number} заседания Экспертного совета</title>
<style>body{{font-family:serif;margin:2cm}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #000;padding:4px;font-size:11pt}}@media print{{body{{margin:1cm}}}}</style>
</head><body>
<h1>Протокол № {number} заседания Экспертного совета</h1>
<p>{campaign}</p>
<p>Дата заседания: {date}. Дата протокола: {dated}.</p>
<p>Председатель: {chair}. Секретарь: {secretary}.</p>
<p>Членов совета: {members}, присутствовали: {present}. Кворум: {quorum}.</p>
<ul>
{attendance}</ul>
<p>Критерии оценки:</p>
<ul>
{criteria}</ul>
<table><thead><tr><th>№</th><th>Направление</th><th>Программа</th><th>Организация</th><th>Экспертиза: итог, средний балл, %, по критериям, заключения</th><th>Заключения экспертов: включить / не включать</th><th>Голоса: за / против / воздержались</th><th>Решение</th></tr></thead>
<tbody>
{rows}</tbody></table>
<p>Статус: {status}</p>
</body></html>
"#,
        number = escape(&p.number),
        campaign = escape(&p.campaign_title),
        date = escape(&p.held_on),
        dated = escape(&p.dated),
        chair = escape(&p.chair_id),
        secretary = escape(&p.secretary_id),
        members = p.members,
        present = p.present,
        quorum = p.quorum,
        attendance = attendance.join("\n"),
        criteria = criteria.join("\n"),
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

    #[test]
    fn the_chair_and_secretary_sit_first() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let seats = attendance(&[a, b, c], c, b, &[c, b]);
        let roles: Vec<(&str, bool)> = seats.iter().map(|m| (m.role.as_str(), m.present)).collect();
        assert_eq!(
            roles,
            [("chair", true), ("secretary", true), ("member", false)]
        );
        assert_eq!(seats[0].user_id, c.to_string());
    }
}
