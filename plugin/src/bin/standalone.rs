//! StemCheck as a standalone application (nice-plug's standalone wrapper): for trying the
//! editor without a host and for the README screenshot (`plugin/scripts/screenshot.sh`).

fn main() {
    nice_plug::wrapper::standalone::nice_export_standalone::<stemcheck_plugin::StemCheck>();
}
