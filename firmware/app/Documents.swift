// The texts the demonstration device writes: an EPCIS 2.0 ObjectEvent and a telemetry payload,
// written with no formatting library (Embedded Swift has no Foundation).

enum EPCISDocument {
    /// An EPCISDocument with one OBSERVE ObjectEvent of `epc` at `time`, with the temperature
    /// as a sensor report whose `deviceID` names this device (`did:pkh:eip155:{chain}:{address}`),
    /// so two devices observing the same item in the same second record two events, not one hash.
    static func write(epc: UnsafeRawBufferPointer, time: UInt64, temperature: Int64, device: Address20, chainId: UInt64,
                      into out: inout FrameBuffer) {
        out.update(ascii: #"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":""#)
        ISOTime.write(time, into: &out)
        out.update(ascii: #"","epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":""#)
        ISOTime.write(time, into: &out)
        out.update(ascii: #"","eventTimeZoneOffset":"+00:00","epcList":[""#)
        out.update(epc)
        out.update(ascii: #""],"action":"OBSERVE","bizStep":"inspecting","readPoint":{"id":"urn:epc:id:sgln:0614141.00777.0"},"sensorElementList":[{"sensorMetadata":{"deviceID":"did:pkh:eip155:"#)
        Decimal.write(Int64(chainId), into: &out)
        out.update(ascii: ":0x")
        withUnsafeBytes(of: device) { HexText.write($0, to: &out) }
        out.update(ascii: #""},"sensorReport":[{"type":"Temperature","value":"#)
        Decimal.writeHundredths(temperature, into: &out)
        out.update(ascii: #","uom":"CEL"}]}]}]}}"#)
    }
}

enum Telemetry {
    /// `devices/{address}/telemetry`, the device's own topic.
    static func withTopic<R>(_ address: Address20, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var topic = InlineArray<64, UInt8>(repeating: 0)
        return withUnsafeMutableBytes(of: &topic) { raw in
            var out = FrameBuffer(raw.bindMemory(to: UInt8.self))
            out.update(ascii: "devices/0x")
            withUnsafeBytes(of: address) { HexText.write($0, to: &out) }
            out.update(ascii: "/telemetry")
            precondition(!out.overflowed, "the topic buffer holds 60 bytes")
            return body(out.bytes)
        }
    }

    static func writePayload(value: Int64, observedAt: UInt64, into out: inout FrameBuffer) {
        out.update(ascii: #"{"kind":"air.temperature.centi-celsius","value":"#)
        Decimal.write(value, into: &out)
        out.update(ascii: #","observedAt":"#)
        Decimal.write(Int64(observedAt), into: &out)
        out.update(ascii: "}")
    }
}

enum Decimal {
    static func write<S: ByteSink>(_ value: Int64, into out: inout S) {
        if value < 0 { out.update(0x2d) }
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var v = value.magnitude, n = 0
        repeat { digits[n] = UInt8(0x30 + v % 10); v /= 10; n += 1 } while v != 0
        while n > 0 { n -= 1; out.update(digits[n]) }
    }

    /// `value` / 100 with two decimals (2315 → 23.15).
    static func writeHundredths<S: ByteSink>(_ value: Int64, into out: inout S) {
        if value < 0 { out.update(0x2d) }
        write(Int64(value.magnitude / 100), into: &out)
        out.update(0x2e)
        let cents = value.magnitude % 100
        out.update(UInt8(0x30 + cents / 10))
        out.update(UInt8(0x30 + cents % 10))
    }
}

enum ISOTime {
    /// `YYYY-MM-DDThh:mm:ss.000Z` of Unix seconds (days to civil date: H. Hinnant's algorithm).
    static func write<S: ByteSink>(_ seconds: UInt64, into out: inout S) {
        let days = Int64(seconds / 86_400), rest = seconds % 86_400
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        two(year / 100, &out); two(year % 100, &out); out.update(0x2d)
        two(month, &out); out.update(0x2d); two(day, &out); out.update(0x54)
        two(Int64(rest / 3600), &out); out.update(0x3a); two(Int64(rest / 60 % 60), &out); out.update(0x3a); two(Int64(rest % 60), &out)
        out.update(ascii: ".000Z")
    }

    static func two<S: ByteSink>(_ v: Int64, _ out: inout S) {
        out.update(UInt8(0x30 + v / 10))
        out.update(UInt8(0x30 + v % 10))
    }
}
