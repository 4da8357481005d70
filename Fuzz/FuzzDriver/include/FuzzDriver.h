#ifndef APUS_FUZZ_DRIVER_H
#define APUS_FUZZ_DRIVER_H

/// Hands the process to libFuzzer's driver with the harness's LLVMFuzzerTestOneInput.
///
/// SwiftPM renames an executable's entry point to `<module>_main` and links it with
/// `--defsym main=<module>_main`, so libFuzzer's own `main` never runs; each harness's
/// main.swift calls this instead (the same thing libFuzzer's `main` does).
int apus_fuzz_main(int argc, char **argv);

#endif
