//! `sqlx::migrate!` embeds migrations/allocation at compile time: rebuild
//! when a migration is added or changed there.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/allocation");
}
