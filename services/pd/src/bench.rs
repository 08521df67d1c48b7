//! `pd bench`: see BENCHMARKS.md.

#[derive(clap::Args)]
pub struct BenchArgs {}

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("no benchmark yet")
}
