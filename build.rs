fn main() {
    // Only the binding needs the N-API link setup; the pure core builds without it.
    if std::env::var_os("CARGO_FEATURE_NAPI").is_some() {
        napi_build::setup();
    }
}
