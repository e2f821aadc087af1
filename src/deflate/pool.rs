//! The idle inflaters of a thread, shared by the connections whose peer agreed
//! `*_no_context_takeover`: such a connection needs an inflater only while a compressed message is
//! arriving, so between messages it holds none and a thread keeps a few for all of them.

use std::cell::RefCell;

use super::{Inflater, StreamParams};

/// The most idle inflaters a thread keeps (about 46 KiB each); more are dropped when released.
pub const IDLE_INFLATERS: usize = 8;

thread_local! {
    // Kept boxed as the sinks hold them: acquired and released without an allocation or a move.
    #[allow(clippy::vec_box)]
    static IDLE: RefCell<Vec<Box<Inflater>>> = const { RefCell::new(Vec::new()) };
}

/// An inflater at the start of a stream, following `params`: an idle one of this thread when there
/// is one, a new one otherwise. Boxed: a sink holds it only while it needs it, and otherwise
/// holds a pointer's worth of room for it, not the inflater's.
pub fn acquire_inflater(params: StreamParams) -> Box<Inflater> {
    let idle = IDLE.try_with(|idle| idle.borrow_mut().pop()).ok().flatten();
    match idle {
        Some(mut inflater) => {
            inflater.set_params(params);
            inflater
        }
        None => Box::new(Inflater::new(params)),
    }
}

/// Returns an inflater no longer needed by its connection: reset (whatever message it was in the
/// middle of is abandoned) and kept for the next [`acquire_inflater`] of this thread, or dropped when
/// the thread already keeps [`IDLE_INFLATERS`].
pub fn release_inflater(mut inflater: Box<Inflater>) {
    inflater.reset();
    let _ = IDLE.try_with(|idle| {
        let mut idle = idle.borrow_mut();
        if idle.len() < IDLE_INFLATERS {
            idle.push(inflater);
        }
    });
}
