import CSecp256k1

/// The secp256k1 curve of Ethereum and Bitcoin, through libsecp256k1.
///
/// All operations share one libsecp256k1 context, created on first use and randomised
/// against side channels. libsecp256k1 only reads a context after creation, so any number
/// of threads may sign, verify and recover at the same time.
public enum Secp256k1 {
    /// A signature `(r, s)` on secp256k1.
    public typealias Signature = ECDSASignature<Secp256k1>

    /// Half the group order: the largest `s` of a low-S signature.
    public static let halfOrder = (UInt256(order) >> 1).bytes32
}

extension Secp256k1 {
    /// The process-wide libsecp256k1 context.
    final class Context: @unchecked Sendable {
        let raw: OpaquePointer

        static let shared = Context()

        private init() {
            guard let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
                fatalError("libsecp256k1 could not create a context")
            }
            var rng = SystemRandomNumberGenerator()
            var seed = (rng.next() as UInt64, rng.next() as UInt64, rng.next() as UInt64, rng.next() as UInt64)
            let randomized = withUnsafeBytes(of: &seed) {
                secp256k1_context_randomize(ctx, $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(randomized == 1, "libsecp256k1 could not randomise its context")
            raw = ctx
        }
    }

    @inline(__always)
    static var context: OpaquePointer { Context.shared.raw }
}

extension Secp256k1: ECDSACurve {
    public static let keyType = KeyType.secp256k1

    /// n = FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE BAAEDCE6 AF48A03B BFD25E8C D0364141.
    public static let order = try! Bytes32(hex: "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")

    /// libsecp256k1's DER parser, plus a check that re-encoding gives back the input.
    public static func parseStrictDER(_ der: [UInt8]) throws(SignatureError) -> (r: Bytes32, s: Bytes32) {
        var sig = secp256k1_ecdsa_signature()
        guard !der.isEmpty, secp256k1_ecdsa_signature_parse_der(context, &sig, der, der.count) == 1 else {
            throw .malformedDER
        }
        let (r, s) = compact(sig)
        // libsecp256k1 reads a negative value or one of n or more as zero.
        guard r != .zero else { throw .scalarOutOfRange(component: "r") }
        guard s != .zero else { throw .scalarOutOfRange(component: "s") }
        guard serializeDER(sig) == der else { throw .nonCanonicalDER }
        return (r, s)
    }

    public static func serializeDER(r: Bytes32, s: Bytes32) -> [UInt8] {
        var sig = secp256k1_ecdsa_signature()
        withCompact(r, s) { _ = secp256k1_ecdsa_signature_parse_compact(context, &sig, $0) }
        return serializeDER(sig)
    }

    static func serializeDER(_ sig: secp256k1_ecdsa_signature) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 72)
        var length = out.count
        withUnsafePointer(to: sig) { _ = secp256k1_ecdsa_signature_serialize_der(context, &out, &length, $0) }
        out.removeLast(out.count - length)
        return out
    }

    static func compact(_ sig: secp256k1_ecdsa_signature) -> (Bytes32, Bytes32) {
        var out = (Bytes32.zero, Bytes32.zero)
        withUnsafeMutableBytes(of: &out) { buffer in
            withUnsafePointer(to: sig) {
                _ = secp256k1_ecdsa_signature_serialize_compact(
                    context, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), $0)
            }
        }
        return out
    }

    /// Calls `body` with `r ‖ s` as 64 contiguous bytes on the stack.
    @inline(__always)
    static func withCompact<R>(_ r: Bytes32, _ s: Bytes32, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        var rs = (r, s)
        return withUnsafeBytes(of: &rs) { body($0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
    }
}

// MARK: - Keys

extension Secp256k1 {
    /// A secp256k1 private key: a 32-byte scalar in `1 ..< n`, with its public key.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        /// The scalar, big-endian.
        public let secret: Bytes32
        /// The matching public key (computed once, at creation).
        public let publicKey: PublicKey

        /// A new random key from the system's secure random number generator.
        public init() {
            var rng = SystemRandomNumberGenerator()
            while true {
                let candidate = Bytes32(storage: (rng.next(), rng.next(), rng.next(), rng.next()))
                if let key = try? PrivateKey(candidate) {
                    self = key
                    return
                }
            }
        }

        /// A key from its 32-byte scalar, which must be nonzero and below the group order.
        public init(_ secret: Bytes32) throws(KeyError) {
            var pubkey = secp256k1_pubkey()
            let created = secret.withUnsafeBytes { raw -> Int32 in
                let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                guard secp256k1_ec_seckey_verify(Secp256k1.context, p) == 1 else { return 0 }
                return secp256k1_ec_pubkey_create(Secp256k1.context, &pubkey, p)
            }
            guard created == 1 else { throw .privateKeyOutOfRange(.secp256k1) }
            self.secret = secret
            self.publicKey = PublicKey(raw: pubkey)
        }

        /// A key from 32 bytes, big-endian.
        public init(rawRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 32 else {
                throw .wrongPrivateKeyLength(.secp256k1, expected: 32, actual: bytes.count)
            }
            try self.init(try! Bytes32(bytes))
        }

        /// The 32 bytes of the scalar.
        public var rawRepresentation: [UInt8] { secret.bytes }

        /// Signs a 32-byte digest: deterministic (RFC 6979), low-S, with the recovery id
        /// that lets ``Secp256k1/recover(digest:r:s:recoveryId:)`` find this key again.
        public func sign(digest: Bytes32) -> RecoverableSignature {
            var rsig = secp256k1_ecdsa_recoverable_signature()
            let signed = digest.withUnsafeBytes { d in
                secret.withUnsafeBytes { k in
                    secp256k1_ecdsa_sign_recoverable(
                        Secp256k1.context, &rsig, d.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, nil)
                }
            }
            precondition(signed == 1, "libsecp256k1 failed to sign with a validated key")
            var rs = (Bytes32.zero, Bytes32.zero)
            var recid: Int32 = 0
            withUnsafeMutableBytes(of: &rs) {
                _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(
                    Secp256k1.context, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &recid, &rsig)
            }
            return RecoverableSignature(unchecked: rs.0, s: rs.1, recoveryId: UInt8(recid))
        }

        /// Redacted: a private key never appears in logs.
        public var description: String { "Secp256k1.PrivateKey(public: \(publicKey))" }
    }

    /// A point on secp256k1 other than infinity.
    public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
        /// libsecp256k1's parsed form, kept so verification does not parse again.
        let raw: secp256k1_pubkey

        init(raw: secp256k1_pubkey) { self.raw = raw }

        /// Parses SEC 1 form: 33 bytes compressed (`02`/`03 ‖ x`) or 65 bytes uncompressed
        /// (`04 ‖ x ‖ y`). The point must be on the curve; hybrid `06`/`07` forms are refused.
        public init(serialized bytes: some Collection<UInt8>) throws(KeyError) {
            let input = Array(bytes)
            switch input.count {
            case 33 where input[0] != 0x02 && input[0] != 0x03,
                 65 where input[0] != 0x04:
                throw .badPointPrefix(.secp256k1, input[0])
            case 33, 65: break
            default: throw .wrongPublicKeyLength(.secp256k1, expected: [33, 65], actual: input.count)
            }
            var pubkey = secp256k1_pubkey()
            guard secp256k1_ec_pubkey_parse(Secp256k1.context, &pubkey, input, input.count) == 1 else {
                throw .notOnCurve(.secp256k1)
            }
            self.raw = pubkey
        }

        /// Parses the 33-byte compressed form only.
        public init(compressedRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 33 else { throw .wrongPublicKeyLength(.secp256k1, expected: [33], actual: bytes.count) }
            try self.init(serialized: bytes)
        }

        /// Parses the 65-byte uncompressed form (`04 ‖ x ‖ y`) only.
        public init(uncompressedRepresentation bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 65 else { throw .wrongPublicKeyLength(.secp256k1, expected: [65], actual: bytes.count) }
            try self.init(serialized: bytes)
        }

        /// Parses the 64-byte `x ‖ y` form without prefix, as hashed into Ethereum addresses.
        public init(uncompressedXY bytes: some Collection<UInt8>) throws(KeyError) {
            guard bytes.count == 64 else { throw .wrongPublicKeyLength(.secp256k1, expected: [64], actual: bytes.count) }
            try self.init(serialized: [0x04] + bytes)
        }

        func serialized(compressed: Bool) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: compressed ? 33 : 65)
            var length = out.count
            let flags = UInt32(compressed ? SECP256K1_EC_COMPRESSED : SECP256K1_EC_UNCOMPRESSED)
            withUnsafePointer(to: raw) { _ = secp256k1_ec_pubkey_serialize(Secp256k1.context, &out, &length, $0, flags) }
            return out
        }

        /// 33 bytes: `02`/`03` (parity of y) ‖ x. The form used in did:key.
        public var compressedRepresentation: [UInt8] { serialized(compressed: true) }
        /// 65 bytes: `04 ‖ x ‖ y`.
        public var uncompressedRepresentation: [UInt8] { serialized(compressed: false) }
        /// 64 bytes: `x ‖ y`.
        public var uncompressedXY: [UInt8] { Array(serialized(compressed: false).dropFirst()) }

        /// The Ethereum address: the last 20 bytes of keccak256(x ‖ y).
        public var address: Address { Secp256k1.address(of: raw) }

        /// Verifies `signature` over a 32-byte digest.
        ///
        /// libsecp256k1 accepts only low-S signatures. With `allowHighS` true, `s` is first
        /// normalised, which is plain ECDSA as X9.62 and Wycheproof define it; with false,
        /// a high-S signature is rejected, as Bitcoin and Ethereum transactions require.
        public func isValidSignature(_ signature: Signature, digest: Bytes32, allowHighS: Bool) -> Bool {
            var sig = secp256k1_ecdsa_signature()
            let ctx = Secp256k1.context
            let parsed = Secp256k1.withCompact(signature.r, signature.s) {
                secp256k1_ecdsa_signature_parse_compact(ctx, &sig, $0)
            }
            guard parsed == 1 else { return false }
            if allowHighS {
                var normalized = secp256k1_ecdsa_signature()
                _ = secp256k1_ecdsa_signature_normalize(ctx, &normalized, &sig)
                sig = normalized
            }
            return digest.withUnsafeBytes { d in
                withUnsafePointer(to: raw) { key in
                    secp256k1_ecdsa_verify(ctx, &sig, d.baseAddress!.assumingMemoryBound(to: UInt8.self), key)
                }
            } == 1
        }

        /// Verifies a strict-DER signature; malformed or non-canonical DER is not valid.
        public func isValidSignature(derRepresentation der: some Collection<UInt8>, digest: Bytes32, allowHighS: Bool) -> Bool {
            guard let signature = try? Signature(derRepresentation: der) else { return false }
            return isValidSignature(signature, digest: digest, allowHighS: allowHighS)
        }

        /// Verifies a 64-byte `r ‖ s` (IEEE P1363) signature; any other length is not valid.
        public func isValidSignature(rawRepresentation raw: some Collection<UInt8>, digest: Bytes32, allowHighS: Bool) -> Bool {
            guard let signature = try? Signature(rawRepresentation: raw) else { return false }
            return isValidSignature(signature, digest: digest, allowHighS: allowHighS)
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool {
            withUnsafePointer(to: a.raw) { pa in
                withUnsafePointer(to: b.raw) { pb in secp256k1_ec_pubkey_cmp(Secp256k1.context, pa, pb) == 0 }
            }
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(compressedRepresentation) }

        /// Compressed hex.
        public var description: String { Hex.encode(compressedRepresentation) }
    }
}
