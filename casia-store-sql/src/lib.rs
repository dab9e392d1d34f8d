//! SQL adapters for the core's ports. Empty until issue 4 lands: the
//! in-memory adapters of `casia-core` serve every store-backed feature now.
#![forbid(unsafe_code)]
