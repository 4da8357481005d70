import FuzzDriver
import Glibc

// libFuzzer's driver runs LLVMFuzzerTestOneInput (in FuzzMessageFraming.swift) until it is done.
exit(apus_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
