import ApusXSK
import Testing

struct SocketConfigurationTests {
    /// The rings follow the UMEM: half its frames (so the fill ring can hold half of it for a
    /// burst), a power of two as the kernel requires, never under the 2048 they always had.
    @Test(arguments: [(UInt32(64), UInt32(2048)), (1024, 2048), (4096, 2048), (8192, 4096), (16384, 8192),
                      (20000, 8192), (32768, 16384), (1 << 20, 1 << 19)])
    func ringSizeIsHalfTheFramesAsAPowerOfTwo(frames: UInt32, ring: UInt32) {
        var configuration = XSKSocket.Configuration()
        configuration.frameCount = frames
        #expect(configuration.ringSize == ring)
        #expect(XSKSocket.Configuration.ringSize(forFrames: frames) == ring)
    }

    @Test func aRingSizeSetExplicitlyStaysWhateverTheFrames() {
        var configuration = XSKSocket.Configuration()
        configuration.ringSize = 512
        configuration.frameCount = 65536
        #expect(configuration.ringSize == 512)
    }
}
