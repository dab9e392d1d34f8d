//! The HTTP adapter of CASIA (HTTP.md). The REST service lands with issue 5;
//! today this crate carries the `casia` binary's command line.
#![forbid(unsafe_code)]
