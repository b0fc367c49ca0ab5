import KramaaPrimitives

/// `base^exponent mod modulus` on unsigned integers of any length, for the 0x05 precompile.
///
/// Numbers are little-endian arrays of 64-bit limbs. An odd modulus uses Montgomery
/// multiplication (CIOS); an even one multiplies in full and reduces by long division
/// (Knuth's algorithm D). The exponent is scanned in 4-bit windows, or bit by bit when it
/// is short. Inputs are public, so nothing here tries to be constant time.
enum ModularExponentiation {
    /// `base^exponent mod modulus`, all big-endian, the exponent followed by
    /// `exponentTrailingZeroBytes` zero bytes that are not materialised (the part of an
    /// EVM input past its end). The result is big-endian, left-padded to `modulus.count`
    /// bytes; a zero modulus gives zeros.
    static func power(base: ArraySlice<UInt8>, exponent: ArraySlice<UInt8>, exponentTrailingZeroBytes: Int = 0,
                      modulus: ArraySlice<UInt8>) -> [UInt8] {
        let m = limbs(bigEndian: modulus)
        let outputLength = modulus.count
        if m.isEmpty || m == [1] { return [UInt8](repeating: 0, count: outputLength) }
        let e = limbs(bigEndian: exponent)
        if e.isEmpty { return bigEndianBytes([1], length: outputLength) }
        let b = limbs(bigEndian: base)
        if b.isEmpty { return [UInt8](repeating: 0, count: outputLength) }

        let result: [UInt64]
        if m.count == 1 && m[0] & 1 == 1 {
            // One odd limb, the cheapest case to pay for: keep everything in registers.
            let r = SingleLimbMontgomery(modulus: m[0])
                .power(remainder(b, m)[0], exponent: exponent, trailingZeroBytes: exponentTrailingZeroBytes)
            result = [r]
        } else if m[0] & 1 == 1 {
            result = Montgomery(modulus: m).power(b, exponent: exponent, trailingZeroBytes: exponentTrailingZeroBytes)
        } else {
            result = PlainReducer(modulus: m).power(b, exponent: exponent, trailingZeroBytes: exponentTrailingZeroBytes)
        }
        return bigEndianBytes(result, length: outputLength)
    }

    // MARK: - Conversions

    /// Little-endian limbs of a big-endian byte string, without leading zero limbs.
    static func limbs(bigEndian bytes: ArraySlice<UInt8>) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
        var shift: UInt64 = 0
        var index = 0
        for byte in bytes.reversed() {
            out[index] |= UInt64(byte) << shift
            shift += 8
            if shift == 64 { shift = 0; index += 1 }
        }
        while let last = out.last, last == 0 { out.removeLast() }
        return out
    }

    /// Big-endian bytes of `limbs`, left-padded or cut (from the left) to `length`.
    static func bigEndianBytes(_ limbs: [UInt64], length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        for i in 0..<length {
            let limb = i / 8
            guard limb < limbs.count else { break }
            out[length - 1 - i] = UInt8(truncatingIfNeeded: limbs[limb] >> (8 * UInt64(i % 8)))
        }
        return out
    }

    /// `a mod m` (both trimmed), as `m.count` limbs.
    static func remainder(_ a: [UInt64], _ m: [UInt64]) -> [UInt64] {
        let divisor = Divisor(m)
        var out = [UInt64](repeating: 0, count: m.count)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: max(a.count, m.count) + 1)
        defer { scratch.deallocate() }
        a.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { out in
                divisor.remainder(a.baseAddress!, count: a.count, into: out.baseAddress!, scratch: scratch)
            }
        }
        return out
    }
}

// MARK: - Long division

/// A divisor of n ≥ 1 limbs, shifted so its top bit is set, ready for Knuth's algorithm D.
struct Divisor {
    let n: Int
    let shift: UInt64
    /// The normalised divisor, n limbs.
    let normalized: [UInt64]

    init(_ m: [UInt64]) {
        precondition(!m.isEmpty && m[m.count - 1] != 0)
        n = m.count
        shift = UInt64(m[n - 1].leadingZeroBitCount)
        var v = m
        if shift > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                v[i] = v[i] << shift | (i > 0 ? v[i - 1] >> (64 - shift) : 0)
            }
        }
        normalized = v
    }

    /// `u mod divisor` written to `out` (n limbs). `scratch` holds `max(count, n) + 1` limbs.
    func remainder(_ u: UnsafePointer<UInt64>, count: Int, into out: UnsafeMutablePointer<UInt64>,
                   scratch un: UnsafeMutablePointer<UInt64>) {
        var count = count
        while count > 0 && u[count - 1] == 0 { count -= 1 }
        if count < n {
            for i in 0..<n { out[i] = i < count ? u[i] : 0 }
            return
        }
        // un = u << shift, count + 1 limbs.
        un[count] = shift > 0 ? u[count - 1] >> (64 - shift) : 0
        for i in stride(from: count - 1, through: 0, by: -1) {
            un[i] = shift > 0 ? (u[i] << shift | (i > 0 ? u[i - 1] >> (64 - shift) : 0)) : u[i]
        }
        normalized.withUnsafeBufferPointer { v in
            if n == 1 {
                divideBySingleLimb(un, count: count + 1, v[0])
            } else {
                divideNormalizedLimbs(un, count: count + 1, by: v.baseAddress!, n: n, quotient: nil)
            }
        }
        // The remainder is un[0 ..< n] >> shift.
        for i in 0..<n {
            out[i] = shift > 0 ? (un[i] >> shift | un[i + 1] << (64 - shift)) : un[i]
        }
    }

    /// Replaces `un` by its remainder modulo the one-limb `d`, left in `un[0]` (and zeros above).
    private func divideBySingleLimb(_ un: UnsafeMutablePointer<UInt64>, count: Int, _ d: UInt64) {
        var r: UInt64 = 0
        for i in stride(from: count - 1, through: 0, by: -1) {
            r = d.dividingFullWidth((r, un[i])).remainder
            un[i] = 0
        }
        un[0] = r
    }
}

// MARK: - Exponentiation

/// What the square-and-multiply loop needs from a modular representation.
protocol ModularReducer {
    /// Limbs per value.
    var n: Int { get }
    /// `out = a·b` in the representation (out may alias neither a nor b).
    func multiply(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>)
    /// Writes the representation of `x mod m` (x trimmed) to `out`.
    func enter(_ x: [UInt64], into out: UnsafeMutablePointer<UInt64>)
    /// The plain value of a represented one.
    func leave(_ x: UnsafePointer<UInt64>) -> [UInt64]
}

extension ModularReducer {
    /// `base^exponent mod m`, the exponent big-endian and followed by `trailingZeroBytes`
    /// zero bytes.
    func power(_ base: [UInt64], exponent: ArraySlice<UInt8>, trailingZeroBytes: Int) -> [UInt64] {
        let bits = exponent.count * 8
        let window = bits > 64 ? 4 : 1
        let tableSize = 1 << window
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: tableSize * n)
        let acc = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        let tmp = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        defer {
            table.deallocate()
            acc.deallocate()
            tmp.deallocate()
        }
        // table[i] = base^i
        enter([1], into: table)
        enter(base, into: table + n)
        for i in stride(from: 2, to: tableSize, by: 1) {
            multiply(table + (i - 1) * n, table + n, into: table + i * n)
        }
        acc.update(from: table, count: n)

        var started = false
        let exponentBytes = Array(exponent)
        // Windows are aligned to the end of the exponent; the first may be short.
        var position = 0
        let firstWidth = bits % window == 0 ? window : bits % window
        var width = firstWidth
        while position < bits {
            var digit = 0
            for k in 0..<width {
                let bit = position + k
                digit = digit << 1 | Int((exponentBytes[bit / 8] >> UInt8(7 - bit % 8)) & 1)
            }
            if started {
                for _ in 0..<width { square(acc, tmp) }
            }
            if digit != 0 {
                multiply(acc, table + digit * n, into: tmp)
                acc.update(from: tmp, count: n)
                started = true
            }
            position += width
            width = window
        }
        if started {
            var remaining = trailingZeroBytes * 8
            while remaining > 0 {
                square(acc, tmp)
                remaining -= 1
            }
        }
        return leave(acc)
    }

    @inline(__always)
    private func square(_ acc: UnsafeMutablePointer<UInt64>, _ tmp: UnsafeMutablePointer<UInt64>) {
        multiply(acc, acc, into: tmp)
        acc.update(from: tmp, count: n)
    }
}

/// Montgomery arithmetic modulo an odd m below 2⁶⁴, without memory traffic.
struct SingleLimbMontgomery {
    let m: UInt64
    /// −m⁻¹ mod 2⁶⁴.
    let mInv: UInt64

    init(modulus m: UInt64) {
        self.m = m
        var inv: UInt64 = 1
        for _ in 0..<6 { inv = inv &* (2 &- m &* inv) }
        mInv = 0 &- inv
    }

    /// `a·b·2⁻⁶⁴ mod m` for a, b < m.
    @inline(__always)
    func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (hi, lo) = a.multipliedFullWidth(by: b)
        let q = lo &* mInv
        let (qh, _) = q.multipliedFullWidth(by: m)
        // lo + q·m ≡ 0 mod 2⁶⁴, carrying exactly when lo ≠ 0.
        let (s1, o1) = hi.addingReportingOverflow(qh)
        let (s2, o2) = s1.addingReportingOverflow(lo == 0 ? 0 : 1)
        // The true value is below 2m; it may have needed a 65th bit when m ≥ 2⁶³.
        return (o1 || o2 || s2 >= m) ? s2 &- m : s2
    }

    /// `base^exponent mod m` for base < m, the exponent big-endian then
    /// `trailingZeroBytes` zero bytes.
    func power(_ base: UInt64, exponent: ArraySlice<UInt8>, trailingZeroBytes: Int) -> UInt64 {
        let one = m.dividingFullWidth((1, 0)).remainder  // R mod m
        let b = m.dividingFullWidth((base, 0)).remainder  // base·R mod m
        var acc = one
        for byte in exponent {
            for bit in stride(from: 7, through: 0, by: -1) {
                acc = multiply(acc, acc)
                if (byte >> UInt8(bit)) & 1 == 1 { acc = multiply(acc, b) }
            }
        }
        if acc != one {
            var remaining = trailingZeroBytes * 8
            while remaining > 0 {
                acc = multiply(acc, acc)
                remaining -= 1
            }
        }
        return multiply(acc, 1)
    }
}

/// Montgomery arithmetic modulo an odd m: x is represented by `x·R mod m`, R = 2^(64n).
final class Montgomery: ModularReducer {
    let n: Int
    let modulus: [UInt64]
    /// −m⁻¹ mod 2⁶⁴.
    let mInv: UInt64
    /// R² mod m.
    let r2: [UInt64]
    private let scratch: UnsafeMutablePointer<UInt64>

    init(modulus m: [UInt64]) {
        precondition(m[0] & 1 == 1)
        n = m.count
        modulus = m
        var inv: UInt64 = 1
        for _ in 0..<6 { inv = inv &* (2 &- m[0] &* inv) }  // Newton: doubles the correct bits
        mInv = 0 &- inv
        var rSquared = [UInt64](repeating: 0, count: 2 * m.count + 1)
        rSquared[2 * m.count] = 1
        r2 = ModularExponentiation.remainder(rSquared, m)
        scratch = .allocate(capacity: m.count + 2)
    }

    deinit { scratch.deallocate() }

    func enter(_ x: [UInt64], into out: UnsafeMutablePointer<UInt64>) {
        let reduced = ModularExponentiation.remainder(x, modulus)
        reduced.withUnsafeBufferPointer { a in
            r2.withUnsafeBufferPointer { b in multiply(a.baseAddress!, b.baseAddress!, into: out) }
        }
    }

    func leave(_ x: UnsafePointer<UInt64>) -> [UInt64] {
        var one = [UInt64](repeating: 0, count: n)
        one[0] = 1
        var out = [UInt64](repeating: 0, count: n)
        one.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { multiply(x, b.baseAddress!, into: $0.baseAddress!) }
        }
        return out
    }

    /// `a·b·R⁻¹ mod m` by coarsely integrated operand scanning (Koç, Acar and Kaliski).
    func multiply(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>) {
        let t = scratch
        let n = self.n
        t.initialize(repeating: 0, count: n + 2)
        modulus.withUnsafeBufferPointer { mp in
            let m = mp.baseAddress!
            for i in 0..<n {
                let bi = b[i]
                var c: UInt64 = 0
                for j in 0..<n { (c, t[j]) = multiplyAdd(a[j], bi, t[j], c) }
                let (s, o) = t[n].addingReportingOverflow(c)
                t[n] = s
                t[n + 1] = o ? 1 : 0
                let q = t[0] &* mInv
                (c, _) = multiplyAdd(q, m[0], t[0], 0)
                for j in 1..<n { (c, t[j - 1]) = multiplyAdd(q, m[j], t[j], c) }
                let (s2, o2) = t[n].addingReportingOverflow(c)
                t[n - 1] = s2
                t[n] = t[n + 1] &+ (o2 ? 1 : 0)
            }
            // t < 2m: subtract m once if t ≥ m.
            var geq = t[n] != 0
            if !geq {
                geq = true
                for j in stride(from: n - 1, through: 0, by: -1) where t[j] != m[j] {
                    geq = t[j] > m[j]
                    break
                }
            }
            if geq {
                var borrow: UInt64 = 0
                for j in 0..<n { (out[j], borrow) = subtractingWithBorrow(t[j], m[j], borrow) }
            } else {
                out.update(from: t, count: n)
            }
        }
    }
}

/// Plain residues modulo any m: full product, then long division.
final class PlainReducer: ModularReducer {
    let n: Int
    let modulus: [UInt64]
    let divisor: Divisor
    private let product: UnsafeMutablePointer<UInt64>
    private let scratch: UnsafeMutablePointer<UInt64>

    init(modulus m: [UInt64]) {
        n = m.count
        modulus = m
        divisor = Divisor(m)
        product = .allocate(capacity: 2 * m.count)
        scratch = .allocate(capacity: 2 * m.count + 1)
    }

    deinit {
        product.deallocate()
        scratch.deallocate()
    }

    func enter(_ x: [UInt64], into out: UnsafeMutablePointer<UInt64>) {
        let reduced = ModularExponentiation.remainder(x, modulus)
        for i in 0..<n { out[i] = reduced[i] }
    }

    func leave(_ x: UnsafePointer<UInt64>) -> [UInt64] { Array(UnsafeBufferPointer(start: x, count: n)) }

    func multiply(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>) {
        let p = product
        p.initialize(repeating: 0, count: 2 * n)
        for i in 0..<n {
            var c: UInt64 = 0
            let ai = a[i]
            for j in 0..<n { (c, p[i + j]) = multiplyAdd(ai, b[j], p[i + j], c) }
            p[i + n] = c
        }
        divisor.remainder(p, count: 2 * n, into: out, scratch: scratch)
    }
}
