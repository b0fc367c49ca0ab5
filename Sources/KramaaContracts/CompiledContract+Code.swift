import KramaaPrimitives

extension CompiledContract {
    /// The init code's bytes (what a deployment sends, constructor arguments appended).
    public var initCode: [UInt8] { try! Hex.decode(initCodeHex) }  // generated hex, checked by the tests

    /// Init code followed by ABI-encoded constructor arguments: a deployment's data.
    public func deployment(_ arguments: [ABIValue] = []) -> [UInt8] { initCode + ABI.encode(arguments) }
}
