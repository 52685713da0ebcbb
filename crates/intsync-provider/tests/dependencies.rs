//! The provider crate depends on no server: the in-process API is a trait the binary implements
//! (design §2; the emulator is a dev-dependency only).

#[test]
fn no_server_crate_among_the_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "intsync-provider",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("reqwest"), "the tree was read: {tree}");
    // (hyper, hyper-util and tower-http are there as reqwest's client side.)
    for server in ["intsync-emulator", "axum"] {
        assert!(
            !tree.lines().any(|l| l.starts_with(&format!("{server} "))),
            "`{server}` is a normal dependency of intsync-provider:\n{tree}"
        );
    }
}
