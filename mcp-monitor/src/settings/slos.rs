//! The syntax of `MCP_SLOS`: objectives separated by `;`, each
//!
//! ```text
//! <name> = <kind> <selector> <indicator> [over <period>]
//!
//! kind, selector   http [<METHOD>] <route> | http *
//!                  db <operation> <table> | db *        (either may be *)
//!                  step <workflow> <step> | step *      (either may be *)
//!                  run <workflow> | run *
//!                  grpc <service> <method> | grpc *     (either may be *)
//! indicator        availability <share>
//!                  latency <share> within <duration>
//! share            99.9% or 0.999
//! period           a duration (250ms, 1s, 5m, 24h, 30d); default 30d
//! ```
//!
//! Every error names the objective (its place and name) and the part that is wrong.

use std::str::FromStr;

use super::parse::{parse_duration, parse_ratio};
use crate::base::error::Error;
use crate::slo::{Indicator, Objective, Target, DEFAULT_PERIOD};

/// The methods an `http` selector may name (`OTHER` is what the middleware records for
/// the rest).
const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];

/// Parses every objective of `MCP_SLOS`; empty items (a trailing `;`) are skipped.
pub(super) fn parse_objectives(v: &str) -> Result<Vec<Objective>, String> {
    let mut out: Vec<Objective> = Vec::new();
    for (i, item) in v.split(';').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let o = parse_one(item).map_err(|e| format!("objective {} ({item:?}): {e}", i + 1))?;
        out.push(o);
    }
    if out.is_empty() {
        return Err(
            "expected objectives such as `api = http * availability 99.9%`; see docs/alerts.md"
                .into(),
        );
    }
    Ok(out)
}

fn parse_one(item: &str) -> Result<Objective, String> {
    let (name, rest) = item
        .split_once('=')
        .ok_or("expected `<name> = <kind> <selector> <indicator> [over <period>]`")?;
    let name = name.trim();
    if name.is_empty() {
        return Err("the name before `=` is missing".into());
    }
    let mut w = Words {
        words: rest.split_whitespace().collect(),
        at: 0,
    };
    let any = |w: &str| (w != "*").then(|| w.to_owned());
    let kind = w.next("a kind (http, db, step, run or grpc)")?;
    let target = match kind {
        "http" => {
            let first = w.next("a route (`/users/{id}`), a method and a route, or `*`")?;
            if first == "*" {
                Target::AllHttp
            } else if first.starts_with('/') {
                Target::http(None, first)
            } else if METHODS.contains(&first) {
                let path = w.next("a route")?;
                if !path.starts_with('/') {
                    return Err(format!(
                        "the route `{path}` must start with `/` (a route template such as /users/{{id}})"
                    ));
                }
                Target::http(Some(first), path)
            } else {
                return Err(format!(
                    "`{first}` is neither a route (starting with `/`), `*`, nor a method ({})",
                    METHODS.join(", ")
                ));
            }
        }
        "db" | "step" | "grpc" => {
            let (a, b) = match kind {
                "db" => ("an operation", "a table"),
                "step" => ("a workflow", "a step"),
                _ => ("a service (package.Service)", "a method"),
            };
            let first = w.next(&format!("{a} and {b}, or `*`"))?;
            // `db *` alone is every operation; `db * users` every operation on users.
            let pair = if first == "*" && matches!(w.peek(), Some("availability" | "latency")) {
                [None, None]
            } else {
                [any(first), any(w.next(&format!("{b} (or `*`)"))?)]
            };
            let [x, y] = pair;
            match kind {
                "db" => Target::Db {
                    operation: x,
                    table: y,
                },
                "step" => Target::Step {
                    workflow: x,
                    step: y,
                },
                _ => Target::Grpc {
                    service: x,
                    method: y,
                },
            }
        }
        "run" => Target::Run {
            workflow: any(w.next("a workflow or `*`")?),
        },
        other => {
            return Err(format!(
                "`{other}` is not a kind: expected http, db, step, run or grpc"
            ))
        }
    };
    let indicator_word = w.next("`availability` or `latency`")?;
    let share_word = w.next("a share such as 99.9%")?;
    let share = parse_ratio(share_word).map_err(|_| {
        format!(
            "the share `{share_word}` is not a percentage such as 99.9% or a ratio such as 0.999"
        )
    })?;
    let indicator = match indicator_word {
        "availability" => Indicator::Availability,
        "latency" => {
            let within = w.next("`within <duration>`")?;
            if within != "within" {
                return Err(format!(
                    "expected `within <duration>` after the share, not `{within}`"
                ));
            }
            let d = w.next("a duration")?;
            let threshold =
                parse_duration(d).map_err(|e| format!("the latency threshold `{d}`: {e}"))?;
            Indicator::Latency { threshold }
        }
        other => {
            return Err(format!(
                "`{other}` is not an indicator: expected `availability <share>` or `latency <share> within <duration>`"
            ))
        }
    };
    let mut period = DEFAULT_PERIOD;
    if let Some(word) = w.peek() {
        if word != "over" {
            return Err(format!(
                "unexpected `{word}`: only `over <period>` may follow"
            ));
        }
        w.at += 1;
        let p = w.next("a period such as 30d")?;
        period = parse_duration(p).map_err(|e| format!("the period `{p}`: {e}"))?;
    }
    if let Some(word) = w.peek() {
        return Err(format!("unexpected `{word}` after the period"));
    }
    Ok(Objective {
        name: name.to_owned(),
        target,
        indicator,
        objective: share,
        period,
    })
}

/// The words of one objective, read in turn.
struct Words<'a> {
    words: Vec<&'a str>,
    at: usize,
}

impl<'a> Words<'a> {
    /// The next word; the error says what was expected after the previous one.
    fn next(&mut self, what: &str) -> Result<&'a str, String> {
        let word =
            self.words
                .get(self.at)
                .copied()
                .ok_or_else(|| match self.at.checked_sub(1) {
                    Some(i) => format!("expected {what} after `{}`", self.words[i]),
                    None => format!("expected {what} after `=`"),
                })?;
        self.at += 1;
        Ok(word)
    }

    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).copied()
    }
}

/// `"api = http * availability 99.9%"`: one objective in `MCP_SLOS`'s syntax (see
/// `docs/alerts.md`).
impl FromStr for Objective {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse_one(s.trim()).map_err(|reason| Error::InvalidSetting {
            variable: "MCP_SLOS",
            value: s.to_owned(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_kind_and_indicator() {
        let v = "api = http * availability 99.5%;
                 lookup = http GET /users/{id} latency 99% within 100ms over 7d;
                 any-method = http /users availability 0.99;
                 db = db * availability 99.9%;
                 inserts = db insert * availability 99%;
                 steps = step data_processing * latency 95% within 1s;
                 all-steps = step * availability 99%;
                 runs = run data_processing availability 90% over 1h;
                 users = grpc demo.users.v1.Users GetUser availability 99.9%;
                 users-any = grpc demo.users.v1.Users * latency 99% within 250ms;
                 all-grpc = grpc * availability 99%;";
        let got = parse_objectives(v).unwrap();
        assert_eq!(got.len(), 11);
        assert_eq!(
            got[0],
            Objective::availability("api", Target::AllHttp, 0.995)
        );
        assert_eq!(
            got[1],
            Objective::latency(
                "lookup",
                Target::http(Some("GET"), "/users/{id}"),
                0.99,
                Duration::from_millis(100)
            )
            .over(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(got[2].target, Target::http(None, "/users"));
        assert_eq!(got[3].target, Target::db(None, None));
        assert_eq!(got[4].target, Target::db(Some("insert"), None));
        assert_eq!(got[5].target, Target::step(Some("data_processing"), None));
        assert_eq!(got[6].target, Target::step(None, None));
        assert_eq!(got[7].target, Target::run(Some("data_processing")));
        assert_eq!(got[7].period, Duration::from_secs(3600));
        assert_eq!(
            got[8].target,
            Target::grpc(Some("demo.users.v1.Users"), Some("GetUser"))
        );
        assert_eq!(
            got[9].target,
            Target::grpc(Some("demo.users.v1.Users"), None)
        );
        assert_eq!(got[10].target, Target::grpc(None, None));
        // Written back, each parses to itself.
        for o in &got {
            assert_eq!(&o.to_string().parse::<Objective>().unwrap(), o);
        }
    }

    #[test]
    fn errors_name_the_objective_and_the_part() {
        for (v, part) in [
            ("", "expected objectives"),
            ("api http * availability 99%", "expected `<name> ="),
            (" = http * availability 99%", "the name before `=`"),
            ("a = https * availability 99%", "`https` is not a kind"),
            (
                "a = grpc users.Users",
                "expected a method (or `*`) after `users.Users`",
            ),
            (
                "a = http GETT /x availability 99%",
                "`GETT` is neither a route",
            ),
            (
                "a = http GET users availability 99%",
                "the route `users` must start with `/`",
            ),
            (
                "a = http * availabilty 99%",
                "`availabilty` is not an indicator",
            ),
            ("a = http * availability ninety", "the share `ninety`"),
            (
                "a = http * latency 99% 250ms",
                "expected `within <duration>`",
            ),
            (
                "a = http * latency 99% within fast",
                "the latency threshold `fast`",
            ),
            ("a = http * availability 99% for 30d", "unexpected `for`"),
            (
                "a = http * availability 99% over",
                "expected a period such as 30d after `over`",
            ),
            ("a = http * availability 99% over 30x", "the period `30x`"),
            ("a = db select", "expected a table (or `*`) after `select`"),
            ("a = http *", "expected `availability` or `latency`"),
            (
                "ok = http * availability 99%; b = run",
                "objective 2 (\"b = run\")",
            ),
        ] {
            let e = parse_objectives(v).unwrap_err();
            assert!(e.contains(part), "{v:?}: {e}");
        }
    }
}
