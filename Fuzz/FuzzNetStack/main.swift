import FuzzDriver
import Glibc

// libFuzzer's driver runs LLVMFuzzerTestOneInput (in FuzzNetStack.swift) until it is done.
exit(apus_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
