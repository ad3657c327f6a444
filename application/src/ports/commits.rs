/// Told after every append that recorded events, so that readers of the log (projection
/// runners, other processes) look now instead of at their next poll.
///
/// Called after the commit, never inside it: on PostgreSQL a `NOTIFY` inside the append
/// transaction would serialise every commit on the notification queue's lock.
pub trait CommitListener: Send + Sync + 'static {
    fn committed(&self);
}
