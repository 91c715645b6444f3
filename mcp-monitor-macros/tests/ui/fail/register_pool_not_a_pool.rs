// A pool that does not implement `PoolStats` (an `sqlx::Pool` without the `sqlx`
// feature of mcp-monitor is the usual one): the error names the feature.
struct Pool;

fn main() {
    let monitor = mcp_monitor::Monitor::builder().build().unwrap();
    monitor.register_pool("main", Pool);
}
