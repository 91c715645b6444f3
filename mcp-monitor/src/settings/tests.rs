//! The settings as read from the environment: every form, every refusal.

use super::table::VARIABLES;
use super::Settings;
use crate::base::error::Error;
use std::collections::HashMap;
use std::time::Duration;

fn with(vars: &[(&str, &str)]) -> Result<Settings, Error> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::from_lookup(&move |k| map.get(k).cloned())
}

fn err(vars: &[(&str, &str)]) -> String {
    with(vars).unwrap_err().to_string()
}

#[test]
fn defaults_match_the_spec() {
    let s = with(&[]).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.request_latency_threshold, Duration::from_secs(1));
    assert_eq!(s.error_rate_threshold, 0.05);
    assert_eq!(s.metrics_window, Duration::from_secs(300));
    assert_eq!(s.alert_for, Duration::from_secs(60));
    assert_eq!(s.alert_min_samples, 20);
    assert_eq!(s.metrics_retention, Some(Duration::from_secs(86400)));
    assert!(s.admin_token.is_none());
}

#[test]
fn every_value_form_parses() {
    let s = with(&[
        ("MCP_REQUEST_LATENCY_THRESHOLD", "1.5"),
        ("MCP_ERROR_RATE_THRESHOLD", "2%"),
        ("MCP_CPU_THRESHOLD", "0.9"),
        ("MCP_MEMORY_THRESHOLD", " 75% "),
        ("MCP_METRICS_WINDOW", "10m"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "250ms"),
        ("MCP_ALERT_FOR", "0"),
        ("MCP_METRICS_RETENTION", "0"),
        ("MCP_RESOURCE_INTERVAL", "1s"),
        ("MCP_ADMIN_TOKEN", "secret"),
        ("MCP_DB_BUCKETS", "0.001, 0.01,1"),
        ("MCP_HTTP_BUCKETS", "5ms,1s"),
    ])
    .unwrap();
    assert_eq!(s.request_latency_threshold, Duration::from_millis(1500));
    assert!((s.error_rate_threshold - 0.02).abs() < 1e-12);
    assert_eq!(s.cpu_threshold, 0.9);
    assert_eq!(s.memory_threshold, 0.75);
    assert_eq!(s.metrics_window, Duration::from_secs(600));
    assert_eq!(s.alert_evaluation_interval, Duration::from_millis(250));
    assert_eq!(s.alert_for, Duration::ZERO);
    assert_eq!(s.metrics_retention, None);
    assert_eq!(s.admin_token.as_deref(), Some("secret"));
    assert_eq!(s.db_buckets.bounds(), &[0.001, 0.01, 1.0]);
    assert_eq!(s.http_buckets.bounds(), &[0.005, 1.0]);
    assert_eq!(
        with(&[("MCP_REQUEST_LATENCY_THRESHOLD", "250ms")])
            .unwrap()
            .request_latency_threshold,
        Duration::from_millis(250)
    );
}

#[test]
fn every_bad_value_names_its_variable_and_value() {
    let cases: &[(&str, &str)] = &[
        ("MCP_REQUEST_LATENCY_THRESHOLD", "fast"),
        ("MCP_REQUEST_LATENCY_THRESHOLD", "0"),
        ("MCP_ERROR_RATE_THRESHOLD", "150%"),
        ("MCP_ERROR_RATE_THRESHOLD", "-0.1"),
        ("MCP_MEMORY_THRESHOLD", "lots"),
        ("MCP_CPU_THRESHOLD", "1.5"),
        ("MCP_CACHE_HIT_RATIO_THRESHOLD", "80%%"),
        ("MCP_DB_POOL_THRESHOLD", ""),
        ("MCP_SYSTEM_LOAD_THRESHOLD", "-1"),
        ("MCP_ALERT_CRITICAL_FACTOR", "0.5"),
        ("MCP_METRICS_WINDOW", "5 minutes"),
        ("MCP_METRICS_WINDOW", "0"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "15x"),
        ("MCP_ALERT_FOR", "soon"),
        ("MCP_ALERT_MIN_SAMPLES", "-3"),
        ("MCP_ALERT_MIN_SAMPLES", "0"),
        ("MCP_RESOURCE_INTERVAL", "0.000001ms"),
        ("MCP_RESOURCE_INTERVAL", "100ms"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1ms"),
        ("MCP_METRICS_WINDOW", "10ms"),
        ("MCP_HTTP_HEADER_TIMEOUT", "0"),
        ("MCP_HTTP_BODY_TIMEOUT", "soon"),
        ("MCP_HTTP_IDLE_TIMEOUT", "1ns"),
        ("MCP_SHUTDOWN_TIMEOUT", "0"),
        ("MCP_HTTP_BUCKETS", "1e20"),
        ("MCP_HTTP_BUCKETS", "2e19"),
        ("MCP_DB_BUCKETS", "1e300"),
        ("MCP_WORKFLOW_BUCKETS", "0.1,1e-300"),
        ("MCP_ALERT_HISTORY_LIMIT", "0"),
        ("MCP_METRICS_RETENTION", "daily"),
        ("MCP_RESOURCE_INTERVAL", "5 seconds"),
        ("MCP_METRICS_RETENTION", "1ms"),
        ("MCP_ADMIN_TOKEN", ""),
        ("MCP_METRICS_TOKEN", ""),
        ("MCP_HTTP_BUCKETS", "1,0.5"),
        ("MCP_DB_BUCKETS", "a,b"),
        ("MCP_WORKFLOW_BUCKETS", ""),
        ("MCP_HTTP_MAX_SERIES", "many"),
        ("MCP_NATIVE_HISTOGRAM_SCHEMA", "9"),
        ("MCP_NATIVE_HISTOGRAM_SCHEMA", "-1"),
        ("MCP_ALERTMANAGER_URL", "alertmanager:9093"),
        ("MCP_ALERTMANAGER_URL", "http://am:9093,ftp://am"),
        ("MCP_ALERTMANAGER_URL", ""),
        ("MCP_ALERT_RESEND_DELAY", "0"),
        ("MCP_ALERT_RESEND_DELAY", "often"),
        ("MCP_INSTANCE", " "),
        ("MCP_ALERT_LABELS", "team"),
        ("MCP_ALERT_LABELS", "severity=page"),
        ("MCP_ALERT_LABELS", "1team=x"),
        ("MCP_ALERT_LABELS", "team=a,team=b"),
        ("MCP_ALERT_LABELS", "team="),
        ("MCP_EXTERNAL_URL", "/dashboard"),
    ];
    for (name, value) in cases {
        let msg = err(&[(name, value)]);
        assert!(msg.contains(name), "{name}={value:?}: {msg}");
        assert!(
            msg.contains(&format!("{:?}", value.trim())),
            "{name}={value:?}: {msg}"
        );
    }
}

#[test]
fn receiver_settings_parse() {
    let s = with(&[]).unwrap();
    assert!(s.alertmanager_urls.is_empty() && s.alert_labels.is_empty());
    assert_eq!(s.alert_resend_delay, Duration::from_secs(60));
    assert!(!s.instance.is_empty());
    let s = with(&[
        (
            "MCP_ALERTMANAGER_URL",
            "http://am-1:9093/, https://am-2.example.com",
        ),
        ("MCP_ALERT_RESEND_DELAY", "30s"),
        ("MCP_INSTANCE", "api-7"),
        ("MCP_ALERT_LABELS", "team=payments, env=prod"),
        ("MCP_EXTERNAL_URL", "https://api-7.example.com/"),
    ])
    .unwrap();
    assert_eq!(
        s.alertmanager_urls,
        ["http://am-1:9093", "https://am-2.example.com"]
    );
    assert_eq!(s.alert_resend_delay, Duration::from_secs(30));
    assert_eq!(s.instance, "api-7");
    assert_eq!(
        s.alert_labels,
        [
            ("team".to_owned(), "payments".to_owned()),
            ("env".to_owned(), "prod".to_owned())
        ]
    );
    assert_eq!(s.external_url.as_deref(), Some("https://api-7.example.com"));
}

#[test]
fn tokens_that_a_header_cannot_carry_are_refused_without_being_shown() {
    for (name, token) in [
        ("MCP_METRICS_TOKEN", "s3cret\n"),
        ("MCP_METRICS_TOKEN", " adm1n"),
        ("MCP_ADMIN_TOKEN", "adm1n "),
        ("MCP_ADMIN_TOKEN", "qwz rty"),
        ("MCP_ADMIN_TOKEN", "xqj\tvvk"),
        ("MCP_ADMIN_TOKEN", "bzzt\u{7}"),
        ("MCP_ADMIN_TOKEN", "caf\u{e9}"),
    ] {
        let msg = err(&[(name, token)]);
        assert!(msg.contains(name), "{token:?}: {msg}");
        assert!(msg.contains("not shown"), "{token:?}: {msg}");
        let word = token
            .trim()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap();
        assert!(
            !msg.contains(word),
            "{token:?}: the token leaked into {msg}"
        );
    }
    let ok = with(&[("MCP_ADMIN_TOKEN", "Zm9v-bar_baz~+/=")]).unwrap();
    assert_eq!(ok.admin_token.as_deref(), Some("Zm9v-bar_baz~+/="));
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("mcp-settings-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn token_files_drop_one_trailing_newline() {
    for (contents, token) in [
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("s3cret", "s3cret"),
    ] {
        let path = temp_file("ok", contents);
        let p = path.to_str().unwrap();
        let s = with(&[("MCP_METRICS_TOKEN_FILE", p), ("MCP_ADMIN_TOKEN_FILE", p)]).unwrap();
        assert_eq!(s.metrics_token.as_deref(), Some(token), "{contents:?}");
        assert_eq!(s.admin_token.as_deref(), Some(token), "{contents:?}");
        std::fs::remove_file(path).unwrap();
    }
    // Two newlines: the second is part of the token, which is refused.
    let path = temp_file("two", "s3cret\n\n");
    let p = path.to_str().unwrap();
    let msg = err(&[("MCP_ADMIN_TOKEN_FILE", p)]);
    assert!(
        msg.contains("MCP_ADMIN_TOKEN_FILE") && msg.contains(p),
        "{msg}"
    );
    assert!(
        msg.contains("line break") && !msg.contains("s3cret"),
        "{msg}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_token_file_that_cannot_be_read_is_named_with_its_error() {
    let missing = std::env::temp_dir().join("mcp-settings-no-such-file");
    let p = missing.to_str().unwrap();
    let e = with(&[("MCP_METRICS_TOKEN_FILE", p)]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TokenFile {
                variable: "MCP_METRICS_TOKEN_FILE",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("MCP_METRICS_TOKEN_FILE") && msg.contains(p),
        "{msg}"
    );
    assert!(std::error::Error::source(&e).is_some());
    // Endless, or too long to be a token: refused after reading a few KiB.
    let msg = err(&[("MCP_METRICS_TOKEN_FILE", "/dev/zero")]);
    assert!(
        msg.contains("/dev/zero") && msg.contains("longer than"),
        "{msg}"
    );
    // A variable and its file together: ambiguous.
    let path = temp_file("both", "x");
    let msg = err(&[
        ("MCP_ADMIN_TOKEN", "x"),
        ("MCP_ADMIN_TOKEN_FILE", path.to_str().unwrap()),
    ]);
    assert!(
        msg.contains("MCP_ADMIN_TOKEN_FILE") && msg.contains("only one"),
        "{msg}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unknown_variables_are_found_with_the_closest_known_name() {
    let found = Settings::unknown_variables(&[
        "MCP_CPU_TRESHOLD",
        "MCP_CPU_THRESHOLD",
        "PATH",
        "MCP_ADMIN_TOKEN_FLIE",
        "MCP_SOMETHING_ELSE_ENTIRELY",
        "MCP_METRIC_WINDOW",
    ]);
    let pairs: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|u| (u.name.as_str(), u.suggestion))
        .collect();
    assert_eq!(
        pairs,
        [
            ("MCP_ADMIN_TOKEN_FLIE", Some("MCP_ADMIN_TOKEN_FILE")),
            ("MCP_CPU_TRESHOLD", Some("MCP_CPU_THRESHOLD")),
            ("MCP_METRIC_WINDOW", Some("MCP_METRICS_WINDOW")),
            ("MCP_SOMETHING_ELSE_ENTIRELY", None),
        ]
    );
    assert_eq!(
        found[1].to_string(),
        "unknown variable MCP_CPU_TRESHOLD (did you mean MCP_CPU_THRESHOLD?)"
    );
    assert!(Settings::unknown_variables(VARIABLES).is_empty());
    // Read by the demo, not by `Settings`, but known: never reported.
    assert!(Settings::unknown_variables(&["MCP_ADDR"]).is_empty());
}

#[test]
fn timeouts_parse() {
    let s = with(&[
        ("MCP_HTTP_HEADER_TIMEOUT", "2s"),
        ("MCP_HTTP_BODY_TIMEOUT", "1m"),
        ("MCP_HTTP_IDLE_TIMEOUT", "500ms"),
        ("MCP_SHUTDOWN_TIMEOUT", "3s"),
    ])
    .unwrap();
    assert_eq!(s.http_header_timeout, Duration::from_secs(2));
    assert_eq!(s.http_body_timeout, Duration::from_secs(60));
    assert_eq!(s.http_idle_timeout, Duration::from_millis(500));
    assert_eq!(s.shutdown_timeout, Duration::from_secs(3));
    let d = Settings::default();
    assert_eq!(d.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(d.http_header_timeout, Duration::from_secs(10));
}

#[test]
fn evaluation_interval_must_fit_in_the_window() {
    let msg = err(&[
        ("MCP_METRICS_WINDOW", "10s"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1m"),
    ]);
    assert!(msg.contains("MCP_ALERT_EVALUATION_INTERVAL"), "{msg}");
}

/// Finding 3: a bare number is seconds for every duration, as it was for the latency
/// threshold alone (`MCP_METRICS_WINDOW=300` was refused, `..._LATENCY_THRESHOLD=300`
/// taken as 300 s).
#[test]
fn a_bare_number_is_seconds_for_every_duration() {
    let s = with(&[
        ("MCP_REQUEST_LATENCY_THRESHOLD", "2"),
        ("MCP_METRICS_WINDOW", "300"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "15"),
        ("MCP_ALERT_FOR", "60"),
        ("MCP_METRICS_RETENTION", "3600"),
        ("MCP_RESOURCE_INTERVAL", "2.5"),
        ("MCP_ALERT_RESEND_DELAY", "30"),
        ("MCP_SHUTDOWN_TIMEOUT", "5"),
    ])
    .unwrap();
    assert_eq!(s.request_latency_threshold, Duration::from_secs(2));
    assert_eq!(s.metrics_window, Duration::from_secs(300));
    assert_eq!(s.alert_evaluation_interval, Duration::from_secs(15));
    assert_eq!(s.alert_for, Duration::from_secs(60));
    assert_eq!(s.metrics_retention, Some(Duration::from_secs(3600)));
    assert_eq!(s.resource_interval, Duration::from_millis(2500));
    assert_eq!(s.alert_resend_delay, Duration::from_secs(30));
    assert_eq!(s.shutdown_timeout, Duration::from_secs(5));
    // `0` still turns the retention off.
    assert_eq!(
        with(&[("MCP_METRICS_RETENTION", "0")])
            .unwrap()
            .metrics_retention,
        None
    );
    // A unit we do not take is refused with the form to write.
    let e = err(&[("MCP_METRICS_WINDOW", "5 min")]);
    assert!(
        e.contains("MCP_METRICS_WINDOW") && e.contains("write 5m"),
        "{e}"
    );
}

/// Finding 3: `MCP_CPU_THRESHOLD=90` says what to write; the builder says the same.
#[test]
fn a_ratio_out_of_range_suggests_the_forms_with_the_value_given() {
    let e = err(&[("MCP_CPU_THRESHOLD", "90")]);
    assert!(e.contains("\"90\""), "{e}");
    assert!(e.contains("write 90% or 0.9"), "{e}");
    let built = crate::Monitor::builder()
        .configure(|s| s.memory_threshold = 85.0)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        built.contains("MCP_MEMORY_THRESHOLD") && built.contains("write 85% or 0.85"),
        "{built}"
    );
    let e = err(&[("MCP_ERROR_RATE_THRESHOLD", "-5%")]);
    assert!(e.contains("such as 80%"), "{e}");
}

/// Finding 3: every period has a floor in the environment, the retention included
/// (`1ms` reset the store a thousand times a second).
#[test]
fn every_period_has_a_floor_the_retention_included() {
    for (variable, value) in [
        ("MCP_METRICS_RETENTION", "1ms"),
        ("MCP_METRICS_WINDOW", "500ms"),
        ("MCP_ALERT_RESEND_DELAY", "10ms"),
        ("MCP_ALERT_EVALUATION_INTERVAL", "1ms"),
        ("MCP_RESOURCE_INTERVAL", "1ms"),
        ("MCP_HTTP_IDLE_TIMEOUT", "0.0001"),
    ] {
        let e = err(&[(variable, value)]);
        assert!(
            e.contains(variable) && e.contains("must be at least"),
            "{variable}={value}: {e}"
        );
    }
    assert!(with(&[("MCP_METRICS_RETENTION", "1s")]).is_ok());
}

/// Finding 3: control characters are refused where they would reach log lines and
/// labels.
#[test]
fn control_characters_are_refused_in_the_instance_and_labels() {
    let e = err(&[("MCP_INSTANCE", "api\nfake log line")]);
    assert!(
        e.contains("MCP_INSTANCE") && e.contains("control character"),
        "{e}"
    );
    assert!(!e.contains('\n'), "the error itself is one line: {e}");
    let e = err(&[("MCP_ALERT_LABELS", "team=pay\u{1b}[31mments")]);
    assert!(
        e.contains("MCP_ALERT_LABELS") && e.contains("control character"),
        "{e}"
    );
}

/// Finding 3: the error a `main` returning it prints (`Debug`) is the sentence.
#[test]
fn the_error_prints_as_a_sentence_in_debug_form_too() {
    let e = with(&[("MCP_CPU_THRESHOLD", "90")]).unwrap_err();
    assert_eq!(format!("{e:?}"), e.to_string());
    assert!(format!("{e:?}").starts_with("invalid value for MCP_CPU_THRESHOLD"));
}

/// Finding 1: a near miss of a token variable stops start-up naming the variable it
/// resembles; other unknown variables are reported and ignored.
#[test]
fn a_misspelled_token_variable_stops_start_up() {
    for (typo, meant) in [
        ("MCP_METRIC_TOKEN", "MCP_METRICS_TOKEN"),
        ("MCP_ADMIN_TOKN", "MCP_ADMIN_TOKEN"),
        ("MCP_METRICS_TOKEN_FIL", "MCP_METRICS_TOKEN_FILE"),
        ("MCP_ADMN_TOKEN_FILE", "MCP_ADMIN_TOKEN_FILE"),
    ] {
        let e = Settings::check_names(&["PATH", typo]).unwrap_err();
        assert!(
            matches!(&e, Error::MisspelledVariable { name, suggestion } if name == typo && *suggestion == meant),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.contains(typo) && text.contains(meant), "{text}");
    }
    assert!(Settings::check_names(&["MCP_CPU_TRESHOLD", "MCP_SOMETHING_ELSE"]).is_ok());
}

#[test]
fn alertmanager_files_and_credentials() {
    let s = with(&[
        ("MCP_ALERTMANAGER_URL", "https://am:9093"),
        ("MCP_ALERTMANAGER_CA_FILE", "/etc/am/ca.pem"),
        ("MCP_ALERTMANAGER_CERT_FILE", "/etc/am/client.pem"),
        ("MCP_ALERTMANAGER_KEY_FILE", "/etc/am/client.key"),
        ("MCP_ALERTMANAGER_BEARER_TOKEN_FILE", "/run/secrets/am"),
    ])
    .unwrap();
    assert_eq!(
        s.alertmanager_ca_file.as_deref(),
        Some(std::path::Path::new("/etc/am/ca.pem"))
    );
    assert!(s.alertmanager_cert_file.is_some() && s.alertmanager_key_file.is_some());
    assert!(s.alertmanager_bearer_token_file.is_some());
    for (vars, variable) in [
        (
            &[("MCP_ALERTMANAGER_CERT_FILE", "/c.pem")][..],
            "MCP_ALERTMANAGER_CERT_FILE",
        ),
        (
            &[("MCP_ALERTMANAGER_KEY_FILE", "/k.pem")][..],
            "MCP_ALERTMANAGER_KEY_FILE",
        ),
        (
            &[("MCP_ALERTMANAGER_CA_FILE", " ")][..],
            "MCP_ALERTMANAGER_CA_FILE",
        ),
        (
            &[
                ("MCP_ALERTMANAGER_URL", "https://u:secret@am:9093"),
                ("MCP_ALERTMANAGER_BEARER_TOKEN_FILE", "/t"),
            ][..],
            "MCP_ALERTMANAGER_BEARER_TOKEN_FILE",
        ),
    ] {
        let msg = err(vars);
        assert!(msg.contains(variable), "{vars:?}: {msg}");
        assert!(!msg.contains("secret"), "{msg}");
    }
}

#[test]
fn a_url_password_is_never_shown() {
    for v in [
        "ftp://u:secret@am:9093",
        "http://am:9093,ftp://u:secret@am",
        "http://u:secret@am:9093?x=1",
    ] {
        let msg = err(&[("MCP_ALERTMANAGER_URL", v)]);
        assert!(msg.contains("MCP_ALERTMANAGER_URL"), "{msg}");
        assert!(!msg.contains("secret") && msg.contains("u:***@am"), "{msg}");
    }
}

#[test]
fn objectives_are_read_and_every_refusal_names_the_variable_and_the_part() {
    let s = with(&[(
        "MCP_SLOS",
        "api = http * availability 99.5%; lookup = http GET /users/{id} latency 99% within 100ms",
    )])
    .unwrap();
    assert_eq!(s.slos.len(), 2);
    assert_eq!(s.slos[1].name, "lookup");
    for (vars, part) in [
        (
            vec![("MCP_SLOS", "api = http * availabilty 99%")],
            "`availabilty` is not an indicator",
        ),
        (
            vec![("MCP_SLOS", "api = http * availability 100%")],
            "below 100%",
        ),
        (
            vec![(
                "MCP_SLOS",
                "a = http * availability 99%; a = db * availability 99%",
            )],
            "objective 2: the name \"a\" is given twice",
        ),
        (
            vec![("MCP_SLOS", "lookup = http /users latency 99% within 200ms")],
            "200ms is not a bucket bound of the http histogram",
        ),
        (
            // On a bound of the default HTTP buckets, but not of these.
            vec![
                ("MCP_SLOS", "lookup = http /users latency 99% within 100ms"),
                ("MCP_HTTP_BUCKETS", "0.05,0.5"),
            ],
            "100ms is not a bucket bound",
        ),
        (
            vec![("MCP_SLOS", "steps = step * latency 99% within 3s")],
            "MCP_WORKFLOW_BUCKETS",
        ),
    ] {
        let e = err(&vars);
        assert!(e.contains("MCP_SLOS"), "{e}");
        assert!(e.contains(part), "{vars:?}: {e}");
    }
    // The builder goes through the same check.
    let bad = crate::slo::Objective::latency(
        "x",
        crate::slo::Target::AllHttp,
        0.99,
        Duration::from_millis(200),
    );
    let refused = crate::Monitor::builder().with_objective(bad).build();
    assert!(
        matches!(
            refused,
            Err(Error::InvalidSetting {
                variable: "MCP_SLOS",
                ..
            })
        ),
        "{refused:?}"
    );
}

/// The table of `docs/settings.md` is the settings table. To regenerate it after adding
/// a row: `UPDATE_DOCS=1 cargo test -p mcp-monitor --lib settings::tests::the_docs`.
#[test]
fn the_docs_table_is_the_settings_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/settings.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc
        .find("| variable |")
        .expect("the settings table in docs/settings.md");
    let end = doc[start..]
        .find("\n\n")
        .map_or(doc.len(), |e| start + e + 1);
    let expected = super::table::markdown_table();
    if doc[start..end] != expected {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{}{expected}{}", &doc[..start], &doc[end..])).unwrap();
            return;
        }
        panic!(
            "docs/settings.md differs from the settings table (settings/table.rs); \
             UPDATE_DOCS=1 rewrites it. Expected:\n{expected}"
        );
    }
}

#[test]
fn the_resource_floor_is_the_cpu_interval() {
    assert!(super::table::CPU_FLOOR >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    assert!(super::table::CPU_FLOOR >= std::time::Duration::from_millis(100));
}

#[test]
fn the_long_poll_threshold_is_a_duration_of_at_least_one_millisecond() {
    assert_eq!(
        with(&[]).unwrap().long_poll_threshold,
        Duration::from_millis(10)
    );
    for (v, d) in [("25ms", 25), ("1ms", 1), ("0.5", 500), ("2s", 2000)] {
        assert_eq!(
            with(&[("MCP_LONG_POLL_THRESHOLD", v)])
                .unwrap()
                .long_poll_threshold,
            Duration::from_millis(d),
            "{v}"
        );
    }
    for v in ["0", "500us", "fast", "-1ms"] {
        let e = err(&[("MCP_LONG_POLL_THRESHOLD", v)]);
        assert!(e.contains("MCP_LONG_POLL_THRESHOLD"), "{v}: {e}");
    }
    let e = err(&[("MCP_LONG_POLL_THRESHOLD", "0.0005")]);
    assert!(e.contains("at least 1ms"), "{e}");
}
