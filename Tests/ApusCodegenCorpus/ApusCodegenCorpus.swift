// Meridian, a made-up platform's Thrift IDL written to read like large
// production service definitions: a six-level include chain under common/,
// structs of 60+ fields, many enums, typedefs, consts, unions, exceptions and
// services that extend across files. ApusGenPlugin generates this module from
// the .thrift files in this directory at build time (all of them into one
// module, so type names are unique across files). ApusCodegenCorpusTests
// round-trips the generated types; ApusCodegenTests/CorpusTests.swift checks
// the IDL itself. apus-gen.json generates it at `package` access, so the test
// target uses package declarations from another module.
//
// SwiftPM drops a target without Swift sources before plugins run; this file
// is what keeps the target.
