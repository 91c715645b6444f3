//! A certificate authority made for one test with the `openssl` CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A certificate authority made for one test with the `openssl` CLI, a server
/// certificate for 127.0.0.1 and a client certificate, all in `dir` (PEM).
#[derive(Debug)]
pub struct Pki {
    /// The CA's certificate.
    pub ca: PathBuf,
    /// The server's certificate (for 127.0.0.1 and localhost).
    pub server_cert: PathBuf,
    /// The server's key.
    pub server_key: PathBuf,
    /// The client's certificate.
    pub client_cert: PathBuf,
    /// The client's key.
    pub client_key: PathBuf,
}

impl Pki {
    /// Makes the CA and both certificates in `dir` with `openssl`.
    pub fn new(openssl: &Path, dir: &Path) -> Self {
        let run = |args: &[&str]| {
            let out = Command::new(openssl)
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=mcp test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        for (name, usage, san) in [
            (
                "server",
                "serverAuth",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ),
            ("client", "clientAuth", "subjectAltName=DNS:mcp-monitor"),
        ] {
            let (key, csr, pem, ext) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            std::fs::write(
                dir.join(&ext),
                format!("{san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"),
            )
            .expect("write ext");
            run(&[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &key,
                    "-out",
                    &csr,
                    "-subj",
                    &format!("/CN={name}"),
                ],
            ]
            .concat());
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ]);
        }
        Self {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }

    /// A client that trusts this CA and presents the client certificate.
    pub fn client(&self) -> reqwest::ClientBuilder {
        let read = |p: &PathBuf| std::fs::read(p).expect("read PEM");
        let mut identity = read(&self.client_cert);
        identity.extend(read(&self.client_key));
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&read(&self.ca)).expect("CA"))
            .identity(reqwest::Identity::from_pem(&identity).expect("identity"))
    }
}
