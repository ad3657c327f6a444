//! `restock-agent-bench`: how often the agent is asked, and how fast it decides.
//!
//! ```sh
//! cargo run --release -p restock-agent-bench -- [--movements 100000] [--products 200] [--e2e 200] [--postgres]
//! ```
//!
//! 1. A simulated store (random sales, weekly deliveries, refills received after the lead time)
//!    folded through the domain aggregate: agent calls with the crossing rule vs a naive design
//!    that asks on every event that leaves a product below its minimum, from the same stream.
//! 2. Decision latency with the policy backend: the decision alone, in process; and end to end
//!    through a real server (crossing sale committed -> refill event committed), SQLite and
//!    optionally Postgres.

mod e2e;
mod sim;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let movements: usize = flag("--movements")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let products: usize = flag("--products")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);
    let e2e_crossings: usize = flag("--e2e").map(|s| s.parse()).transpose()?.unwrap_or(200);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("machine: {cores} cores");

    let s = sim::run(products, movements, 42);
    let per_100k = |n: usize| n as f64 * 100_000.0 / s.movements as f64;
    println!("\n[1] simulated store: {products} products, {} stock movements ({} sales, {} receipts, {} refills received), {} days",
             s.movements, s.sales, s.receipts, s.refills_received, s.days);
    println!(
        "    agent calls, crossing rule:        {:>8} ({:.1} per 100k movements)",
        s.crossings,
        per_100k(s.crossings)
    );
    println!(
        "    naive, every event below minimum:  {:>8} ({:.1} per 100k movements)",
        s.naive,
        per_100k(s.naive)
    );
    println!(
        "    reduction: {:.1}x; stock-outs (sales refused): {}",
        s.naive as f64 / s.crossings.max(1) as f64,
        s.lost_sales
    );

    let (p50, p99, n) = sim::policy_latency(50_000).await;
    println!("\n[2] policy decision (context -> validated calls), in process, {n} decisions: p50 {p50:.1} us, p99 {p99:.1} us");

    e2e::run(restock_infrastructure::Backend::Sqlite, e2e_crossings).await?;
    if args.iter().any(|a| a == "--postgres") {
        e2e::run(restock_infrastructure::Backend::Postgres, e2e_crossings).await?;
    }
    Ok(())
}
