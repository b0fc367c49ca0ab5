extension Duration {
    /// The duration in whole nanoseconds (for monotonic clocks counted in nanoseconds).
    public var inNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    /// The duration in seconds (for APIs that take a `TimeInterval`).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
