//! `sqlx::migrate!` embeds migrations/monitoring at compile time: rebuild
//! when a migration is added or changed there.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/monitoring");
}
