import ApusRPC
import Testing

@Suite struct DurationHumanReadableTests {
    @Test(arguments: [
        (Duration.zero, "0s"),
        (.nanoseconds(850), "850ns"),
        (.nanoseconds(28_432), "28.4µs"),
        (.nanoseconds(8_433), "8.43µs"),
        (.microseconds(3_150), "3.15ms"),
        (.milliseconds(250), "250ms"),
        (.seconds(10), "10s"),
        (.milliseconds(1_500), "1.5s"),
        (.milliseconds(-20), "-20ms"),
    ])
    func readsAtAGlance(_ duration: Duration, _ text: String) {
        #expect(duration.humanReadable == text)
    }
}
