//! `--perf-map` never writes through a file someone else put at its predictable path (issue 23, item
//! 14): the map is created exclusively, without following a symlink, readable by its owner only, and when
//! it cannot be made the engine says why. One test, in its own binary: the map is per process.

use kaleido_engine::{Engine, EngineOptions};
use std::os::unix::fs::PermissionsExt;

fn engine() -> Engine {
    // One call in tier 0, so a function's second call compiles it.
    let options = EngineOptions { perf_map: true, prelude: false, tier0_calls: 1, ..EngineOptions::default() };
    Engine::new(options, Box::new(std::io::sink())).expect("engine")
}

#[test]
fn a_planted_symlink_is_refused_and_the_map_is_private() {
    let map = format!("/tmp/perf-{}.map", std::process::id());
    let target = std::env::temp_dir().join(format!("kaleido-perf-target-{}", std::process::id()));
    std::fs::write(&target, "precious\n").expect("target");
    let _ = std::fs::remove_file(&map);
    std::os::unix::fs::symlink(&target, &map).expect("plant the symlink");

    let mut planted = engine();
    let problem = planted.perf_map_problem().expect("a planted map is refused").to_string();
    assert!(problem.contains(&format!("{map} exists already")), "{problem}");
    planted.eval("<t>", "def f(x) x + 1; f(1)").expect("runs without a map");
    assert_eq!(std::fs::read_to_string(&target).expect("target"), "precious\n", "the target is untouched");
    drop(planted);

    std::fs::remove_file(&map).expect("remove the symlink");
    let mut fresh = engine();
    assert!(fresh.perf_map_problem().is_none());
    // The first call runs in tier 0; the second compiles g, and the map names its code.
    fresh.eval("<t>", "def g(x) x * 2; g(1); g(2)").expect("compiles");
    let mode = std::fs::metadata(&map).expect("the map exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only its owner reads the map");
    assert!(std::fs::read_to_string(&map).expect("map").contains(" g@1\n"));
    let _ = std::fs::remove_file(&map);
    let _ = std::fs::remove_file(&target);
}
