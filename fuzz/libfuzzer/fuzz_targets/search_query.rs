#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| casia_fuzz::search_query(data));
