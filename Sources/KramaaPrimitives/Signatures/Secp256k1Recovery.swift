import CSecp256k1

extension Secp256k1 {
    /// A secp256k1 signature with the recovery id that identifies the signer's public key
    /// among the candidates for `r`: Ethereum's `(v, r, s)`.
    public struct RecoverableSignature: Hashable, Sendable, CustomStringConvertible {
        /// The `r` value, big-endian.
        public let r: Bytes32
        /// The `s` value, big-endian.
        public let s: Bytes32
        /// 0 or 1 (the parity of the y coordinate of the nonce point); 2 and 3 occur only
        /// with negligible probability and never in Ethereum.
        public let recoveryId: UInt8

        init(unchecked r: Bytes32, s: Bytes32, recoveryId: UInt8) {
            self.r = r
            self.s = s
            self.recoveryId = recoveryId
        }

        /// A signature from its parts: `r` and `s` in `1 ..< n`, `recoveryId` in `0 ... 3`.
        public init(r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SignatureError) {
            guard recoveryId <= 3 else { throw .invalidRecoveryId(UInt64(recoveryId)) }
            let checked = try Signature(r: r, s: s)
            self.init(unchecked: checked.r, s: checked.s, recoveryId: recoveryId)
        }

        /// Parses 65 bytes `r ‖ s ‖ recoveryId` (recovery id 0 ... 3).
        public init(rawRepresentation bytes: some Collection<UInt8>) throws(SignatureError) {
            let raw = Array(bytes)
            guard raw.count == 65 else { throw .wrongLength(expected: 65, actual: raw.count) }
            try self.init(r: try! Bytes32(raw[0..<32]), s: try! Bytes32(raw[32..<64]), recoveryId: raw[64])
        }

        /// `r ‖ s ‖ recoveryId`, 65 bytes.
        public var rawRepresentation: [UInt8] { r.bytes + s.bytes + [recoveryId] }

        /// Ethereum's legacy `v`: 27 + recovery id.
        public var v: UInt8 { 27 &+ recoveryId }

        /// The signature without its recovery id, for ``PublicKey/isValidSignature(_:digest:allowHighS:)``.
        public var signature: Signature { Signature(unchecked: r, s: s) }

        /// The public key that made this signature over `digest`.
        public func recoverPublicKey(digest: Bytes32) throws(SignatureError) -> PublicKey {
            try Secp256k1.recover(digest: digest, r: r, s: s, recoveryId: recoveryId)
        }

        /// The address that made this signature over `digest`, under Ethereum's rule that `s`
        /// is low (so a malleated copy never names a signer); nil when it does not recover.
        public func signer(of digest: Bytes32) -> Address? {
            guard Secp256k1.isLowS(s) else { return nil }
            return try? Secp256k1.recoverAddress(digest: digest, r: r, s: s, recoveryId: recoveryId)
        }

        public var description: String { "Secp256k1.RecoverableSignature(r: \(r), s: \(s), recoveryId: \(recoveryId))" }
    }

    /// The public key that signed `digest` with `(r, s)` and the given recovery id (0 ... 3).
    ///
    /// High-S signatures are accepted (recovery is defined for both `s` and `n - s`);
    /// callers that require low S, like Ethereum transaction validation, check
    /// ``isLowS(_:)`` themselves.
    public static func recover(digest: Bytes32, r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SignatureError) -> PublicKey {
        PublicKey(raw: try recoverRaw(digest: digest, r: r, s: s, recoveryId: recoveryId))
    }

    /// The Ethereum address that signed `digest`, with recovery id 0 or 1 (the `yParity`
    /// of typed transactions, or `v - 27` / `v - 35 - 2·chainId` of legacy ones).
    ///
    /// The fast path for transaction senders: no heap allocation, one shared context.
    @inlinable
    public static func recoverAddress(digest: Bytes32, r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SignatureError) -> Address {
        guard recoveryId <= 1 else { throw .invalidRecoveryId(UInt64(recoveryId)) }
        return try recoverAddressUnchecked(digest: digest, r: r, s: s, recoveryId: recoveryId)
    }

    /// Ethereum's `ecrecover`: `v` must be 27 or 28; `r` and `s` in `1 ..< n` (high S
    /// allowed, as in the 0x01 precompile).
    @inlinable
    public static func ecrecover(digest: Bytes32, v: UInt64, r: Bytes32, s: Bytes32) throws(SignatureError) -> Address {
        guard v == 27 || v == 28 else { throw .invalidRecoveryId(v) }
        return try recoverAddressUnchecked(digest: digest, r: r, s: s, recoveryId: UInt8(truncatingIfNeeded: v &- 27))
    }

    /// Ethereum's `ecrecover` with `v` as the 32-byte big-endian word of the precompile's
    /// input (`hash ‖ v ‖ r ‖ s`): any word other than 27 or 28 is an invalid recovery id.
    @inlinable
    public static func ecrecover(digest: Bytes32, v: Bytes32, r: Bytes32, s: Bytes32) throws(SignatureError) -> Address {
        guard let small = UInt256(v).uint64Value else { throw .invalidRecoveryId(.max) }
        return try ecrecover(digest: digest, v: small, r: r, s: s)
    }

    /// True when `s ≤ n/2` (Ethereum's rule for transaction signatures since Homestead).
    @inlinable
    public static func isLowS(_ s: Bytes32) -> Bool { s <= halfOrder }

    @usableFromInline
    static func recoverAddressUnchecked(digest: Bytes32, r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SignatureError) -> Address {
        address(of: try recoverRaw(digest: digest, r: r, s: s, recoveryId: recoveryId))
    }

    static func recoverRaw(digest: Bytes32, r: Bytes32, s: Bytes32, recoveryId: UInt8) throws(SignatureError) -> secp256k1_pubkey {
        guard recoveryId <= 3 else { throw .invalidRecoveryId(UInt64(recoveryId)) }
        let ctx = context
        var rsig = secp256k1_ecdsa_recoverable_signature()
        let parsed = withCompact(r, s) {
            secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, $0, Int32(recoveryId))
        }
        var pubkey = secp256k1_pubkey()
        let recovered = parsed == 1 && digest.withUnsafeBytes {
            secp256k1_ecdsa_recover(ctx, &pubkey, &rsig, $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
        } == 1
        guard recovered else {
            if r == .zero || r >= order { throw .scalarOutOfRange(component: "r") }
            if s == .zero || s >= order { throw .scalarOutOfRange(component: "s") }
            throw .recoveryFailed
        }
        return pubkey
    }

    /// keccak256 of the 64-byte `x ‖ y`, serialised on the stack.
    static func address(of pubkey: secp256k1_pubkey) -> Address {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65) { buffer in
            var length = 65
            withUnsafePointer(to: pubkey) {
                _ = secp256k1_ec_pubkey_serialize(
                    context, buffer.baseAddress!, &length, $0, UInt32(SECP256K1_EC_UNCOMPRESSED))
            }
            return Address(keccakTail: Keccak256.hash(UnsafeRawBufferPointer(start: buffer.baseAddress! + 1, count: 64)))
        }
    }
}

extension Address {
    /// The last 20 bytes of a Keccak-256 hash, which is how Ethereum makes an address.
    init(keccakTail hash: Bytes32) {
        self.init(high: 0, mid: 0, low: 0)
        hash.withUnsafeBytes { source in
            withUnsafeMutableStorage { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[12..<32])) }
        }
    }
}
