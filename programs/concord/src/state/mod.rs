//! Account layouts of the Concord program.

pub mod job;
pub mod market;
pub mod node;
pub mod pool;

pub use job::*;
pub use market::*;
pub use node::*;
pub use pool::*;
