import Foundation
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaJSON
import KramaaTags

/// What an asset's EPCIS events say in pictures: the journey on a map when locations carry
/// coordinates (a `geo:` URI as read point or business location, or sensor reports of the
/// latitude and longitude components), and each kind of sensor reading over time with the
/// brand's limits (`sensorLimits` in the product metadata) and the breaches marked.
enum JourneyPictures {
    /// Coordinates from a `geo:lat,lon[,alt][;…]` URI (RFC 5870).
    static func coordinates(geo text: String?) -> (Double, Double)? {
        guard let text, text.lowercased().hasPrefix("geo:") else { return nil }
        let numbers = text.dropFirst(4).prefix { $0 != ";" }.split(separator: ",").compactMap { Double($0) }
        guard numbers.count >= 2, (-90...90).contains(numbers[0]), (-180...180).contains(numbers[1]) else { return nil }
        return (numbers[0], numbers[1])
    }

    /// The stop an event marks on the map, if it says where it happened.
    static func stop(_ event: EPCISEvent) -> (latitude: Double, longitude: Double, label: String)? {
        let step = event.bizStep.map(Dashboard.cbvName) ?? event.type.description
        if let (lat, lon) = coordinates(geo: event.bizLocation) ?? coordinates(geo: event.readPoint) {
            return (lat, lon, "\(step), \(event.eventTime)")
        }
        let reports = event.sensorElementList.flatMap(\.reports)
        func component(_ name: String) -> Double? {
            reports.first { $0.component?.lowercased().hasSuffix(name) == true }?.number("value")
        }
        if let lat = component("latitude"), let lon = component("longitude"), (-90...90).contains(lat), (-180...180).contains(lon) {
            return (lat, lon, "\(step), \(event.eventTime)")
        }
        return nil
    }

    /// The journey map of `entries` (oldest first), empty when no event has coordinates.
    static func map(_ entries: [EPCISIndex.Entry]) -> HTML {
        let stops = entries.compactMap { stop($0.event) }
        guard !stops.isEmpty else { return .empty }
        return "<h3>Journey map</h3>\(Chart.journey(stops, title: "Where the item was, in order"))"
    }

    /// One chart per measurement type found in the events' sensor reports (coordinates aside).
    static func sensorCharts(_ entries: [EPCISIndex.Entry], metadata: JSON?) -> HTML {
        let limits = ProductMetadata.sensorLimits(metadata)
        var series: [String: (unit: String, points: [(time: Double, value: Double, flagged: Bool)])] = [:]
        for entry in entries {
            let event = entry.event
            for report in event.sensorElementList.flatMap(\.reports) where report.component == nil {
                guard let type = report.type, let value = report.number("value") else { continue }
                let name = String(type.split(separator: "/").last ?? Substring(type))
                let time = report.string("time").flatMap { EPCISTimestamp(rfc3339: $0) } ?? event.eventTime
                series[name, default: (report.string("uom") ?? "", [])].points.append((Double(time.secondsSinceEpoch), value, report.exception != nil))
            }
        }
        guard !series.isEmpty else { return .empty }
        let charts = series.keys.sorted().map { name -> HTML in
            let s = series[name]!
            let points = s.points.sorted { $0.time < $1.time }
            let first = EPCISTimestamp(secondsSinceEpoch: Int64(points.first!.time)).description
            let last = EPCISTimestamp(secondsSinceEpoch: Int64(points.last!.time)).description
            let chart = Chart.line(points, limits: limits[name] ?? (nil, nil), title: "\(name) readings", unit: s.unit, first: first, last: last)
            return "<h3>\(name)</h3>\(chart)"
        }
        return HTML.join(charts)
    }
}
