//! Generates the demo's gRPC users service from `proto/users.proto`, parsed by `protox`
//! (pure Rust: no `protoc` needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/users.proto");
    let fds = protox::compile(["users.proto"], ["proto"])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
