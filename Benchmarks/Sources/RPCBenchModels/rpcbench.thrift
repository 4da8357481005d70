// The service the RPC benchmarks call: one method, a 64-byte payload each way.
namespace cpp rpcbench

service Bench {
  binary echo(1: binary payload),
}
