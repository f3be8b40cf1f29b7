//! Builds the manager map page's assets (`/map`, see `src/http/pages/map_page.rs`).
//!
//! The page uses Leaflet from npm, pinned by `web/package-lock.json`. When `web/node_modules` is
//! missing or was installed from another lockfile, this runs `npm ci` there (Node.js ≥ 20 and npm
//! must be on the PATH, or `NPM` may name npm), then copies Leaflet's dist files into `OUT_DIR`,
//! from where the binary embeds them. It reruns only when `web/package.json`,
//! `web/package-lock.json` or the install stamp change — never on an ordinary compile. When npm
//! fails the build fails: the binary never ships a page without its map library.
//!
//! The page's own files (`web/src/*`) are embedded with `include_bytes!` and its HTML is the askama
//! template `templates/map.html`; rustc tracks both itself.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// Leaflet's files the page loads, as (file in `node_modules/leaflet/dist`, name in `OUT_DIR`).
const LEAFLET: &[(&str, &str)] = &[("leaflet.js", "leaflet.js"), ("leaflet.css", "leaflet.css")];

/// Written into `node_modules` after a successful `npm ci`: a copy of the lockfile installed.
const STAMP: &str = "node_modules/.outreach-installed-lock.json";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    let web = manifest.join("web");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/{STAMP}");
    println!("cargo:rerun-if-env-changed=NPM");

    let lock_path = web.join("package-lock.json");
    let lockfile = fs::read(&lock_path).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", lock_path.display())));
    // Two builds with different target directories may run at once: one installs, the other waits.
    let guard = fs::File::open(&lock_path).and_then(|f| f.lock().map(|()| f));
    if let Err(e) = &guard {
        println!("cargo:warning=could not lock {} ({e}); installing without a lock", lock_path.display());
    }
    let stamp = web.join(STAMP);
    let installed = fs::read(&stamp).is_ok_and(|s| s == lockfile)
        && LEAFLET.iter().all(|(file, _)| web.join("node_modules/leaflet/dist").join(file).is_file());
    if !installed {
        npm_ci(&web);
        fs::write(&stamp, &lockfile).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", stamp.display())));
        // Dated like the lockfile, i.e. before this build began, so cargo does not take the stamp
        // just written for a change and run this script once more on the next build.
        let when = fs::metadata(&lock_path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
        if let Err(e) = fs::File::options().write(true).open(&stamp).and_then(|f| f.set_modified(when)) {
            println!("cargo:warning=could not date {}: {e}", stamp.display());
        }
    }
    for (file, name) in LEAFLET {
        let from = web.join("node_modules/leaflet/dist").join(file);
        copy_if_changed(&from, &out.join(name));
    }
    drop(guard);
}

fn npm_ci(web: &Path) {
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    let started = std::time::Instant::now();
    // `--ignore-scripts`: the page needs files, not install scripts; none of its packages has one.
    let output = Command::new(&npm)
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"])
        .current_dir(web)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run `{npm}` ({e}). The map page (/map) is built from npm packages: install Node.js 20 \
                 or newer with npm (e.g. `apt-get install nodejs npm`, or from nodejs.org), or set NPM to the npm \
                 to use, then build again."
            ))
        });
    if !output.status.success() {
        let tail = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        fail(&format!(
            "`{npm} ci` in {} failed ({}). The map page (/map) needs its npm packages (Leaflet); check that the npm \
             registry is reachable (or a mirror is set in .npmrc), then build again.\n--- npm stdout\n{}\n--- npm \
             stderr\n{}",
            web.display(),
            output.status,
            tail(&output.stdout),
            tail(&output.stderr)
        ));
    }
    // Not a cargo:warning: cargo would replay it on every later build.
    eprintln!("installed the map page's npm packages in web/node_modules ({:.1} s)", started.elapsed().as_secs_f64());
}

/// Copies only when the content differs, so the crate is not recompiled for nothing.
fn copy_if_changed(from: &Path, to: &Path) {
    let data = fs::read(from).unwrap_or_else(|e| {
        fail(&format!("cannot read {} ({e}); delete web/node_modules and build again", from.display()))
    });
    if fs::read(to).is_ok_and(|old| old == data) {
        return;
    }
    fs::write(to, data).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", to.display())));
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("{message}");
}
