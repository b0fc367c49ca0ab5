import Foundation

/// Pictures drawn by the node as SVG: bar charts (block intervals, transactions per block), line
/// charts with threshold lines and breaches marked (sensor readings), and a journey map (points
/// by latitude and longitude on a plain grid, no external tiles). Each has a `<title>` and a
/// description for screen readers, and scales to the width of the page.
enum Chart {
    static let width = 640.0, height = 200.0, margin = 36.0

    /// Vertical bars, one per value, left to right; `labels` under the first and last.
    static func bars(_ values: [Double], title: String, unit: String, first: String, last: String) -> HTML {
        guard !values.isEmpty else { return "<p>No data yet.</p>" }
        let top = max(values.max() ?? 1, 1e-9)
        let plot = width - 2 * margin, barWidth = plot / Double(values.count)
        let rects = values.enumerated().map { i, v -> HTML in
            let h = (height - 2 * margin) * v / top
            let x = margin + Double(i) * barWidth
            return "<rect x=\"\(f(x + 0.5))\" y=\"\(f(height - margin - h))\" width=\"\(f(max(1, barWidth - 1)))\" height=\"\(f(h))\" fill=\"#0b4f8a\"><title>\(format(v)) \(unit)</title></rect>"
        }
        let average = values.reduce(0, +) / Double(values.count)
        let summary = "\(values.count) values from \(first) to \(last); highest \(format(top)) \(unit), average \(format(average)) \(unit)."
        return frame(title: title, summary: summary, body: """
            \(rects)\(axes(top: top, unit: unit))
            <text x="\(f(margin))" y="\(f(height - 8))" font-size="11">\(first)</text>
            <text x="\(f(width - margin))" y="\(f(height - 8))" font-size="11" text-anchor="end">\(last)</text>
            """)
    }

    /// A reading over time: `points` (seconds, value) joined by a line; horizontal lines at
    /// `limits`; points outside them (or flagged) drawn as red diamonds.
    static func line(_ points: [(time: Double, value: Double, flagged: Bool)], limits: (low: Double?, high: Double?),
                     title: String, unit: String, first: String, last: String) -> HTML {
        guard !points.isEmpty else { return "<p>No readings.</p>" }
        let values = points.map(\.value) + [limits.low, limits.high].compactMap { $0 }
        var low = values.min()!, high = values.max()!
        if high - low < 1e-9 { low -= 1; high += 1 }
        let t0 = points.map(\.time).min()!, t1 = max(points.map(\.time).max()!, t0 + 1)
        func x(_ t: Double) -> Double { margin + (width - 2 * margin) * (t - t0) / (t1 - t0) }
        func y(_ v: Double) -> Double { height - margin - (height - 2 * margin) * (v - low) / (high - low) }
        let path = points.map { "\(f(x($0.time))),\(f(y($0.value)))" }.joined(separator: " ")
        var breaches = 0
        let marks = points.map { p -> HTML in
            let outside = p.flagged || (limits.low.map { p.value < $0 } ?? false) || (limits.high.map { p.value > $0 } ?? false)
            if outside { breaches += 1 }
            let (cx, cy) = (x(p.time), y(p.value))
            return outside
                ? "<path class=\"breach\" d=\"M\(f(cx)) \(f(cy - 6)) L\(f(cx + 6)) \(f(cy)) L\(f(cx)) \(f(cy + 6)) L\(f(cx - 6)) \(f(cy))Z\" fill=\"#a4121b\"><title>\(format(p.value)) \(unit): outside the limits</title></path>"
                : "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"3\" fill=\"#0b4f8a\"><title>\(format(p.value)) \(unit)</title></circle>"
        }
        let lines = [(limits.low, "low"), (limits.high, "high")].compactMap { limit, name -> HTML? in
            limit.map { "<line class=\"limit\" x1=\"\(f(margin))\" x2=\"\(f(width - margin))\" y1=\"\(f(y($0)))\" y2=\"\(f(y($0)))\" stroke=\"#a4121b\" stroke-dasharray=\"6 4\"><title>\(name) limit \(format($0)) \(unit)</title></line>" }
        }
        let limitText = [limits.low.map { "low limit \(format($0))" }, limits.high.map { "high limit \(format($0))" }].compactMap { $0 }.joined(separator: ", ")
        let summary = "\(points.count) readings from \(first) to \(last), \(format(points.map(\.value).min()!)) to \(format(points.map(\.value).max()!)) \(unit)"
            + (limitText.isEmpty ? "" : "; \(limitText) \(unit)") + "; \(breaches) outside the limits."
        return frame(title: title, summary: summary, body: """
            \(lines)<polyline points="\(path)" fill="none" stroke="#0b4f8a" stroke-width="2"/>\(marks)\(axes(top: high, bottom: low, unit: unit))
            <text x="\(f(margin))" y="\(f(height - 8))" font-size="11">\(first)</text>
            <text x="\(f(width - margin))" y="\(f(height - 8))" font-size="11" text-anchor="end">\(last)</text>
            """)
    }

    /// A journey: numbered stops at their coordinates, joined in order, on a latitude/longitude grid
    /// fitted to them (no map tiles: the node fetches nothing).
    static func journey(_ stops: [(latitude: Double, longitude: Double, label: String)], title: String) -> HTML {
        guard !stops.isEmpty else { return .empty }
        let mapHeight = 280.0
        var south = stops.map(\.latitude).min()!, north = stops.map(\.latitude).max()!
        var west = stops.map(\.longitude).min()!, east = stops.map(\.longitude).max()!
        let pad = max(0.05, max(north - south, east - west) * 0.15)
        (south, north, west, east) = (south - pad, north + pad, west - pad, east + pad)
        func x(_ lon: Double) -> Double { margin + (width - 2 * margin) * (lon - west) / (east - west) }
        func y(_ lat: Double) -> Double { mapHeight - margin - (mapHeight - 2 * margin) * (lat - south) / (north - south) }
        let grid = (0...4).map { i -> HTML in
            let gx = margin + (width - 2 * margin) * Double(i) / 4, gy = margin + (mapHeight - 2 * margin) * Double(i) / 4
            return "<line x1=\"\(f(gx))\" x2=\"\(f(gx))\" y1=\"\(f(margin))\" y2=\"\(f(mapHeight - margin))\" stroke=\"#d0d0d0\"/><line x1=\"\(f(margin))\" x2=\"\(f(width - margin))\" y1=\"\(f(gy))\" y2=\"\(f(gy))\" stroke=\"#d0d0d0\"/>"
        }
        let route = stops.map { "\(f(x($0.longitude))),\(f(y($0.latitude)))" }.joined(separator: " ")
        let pins = stops.enumerated().map { i, s -> HTML in
            """
            <g class="stop"><circle cx="\(f(x(s.longitude)))" cy="\(f(y(s.latitude)))" r="9" fill="#0b4f8a"/>\
            <text x="\(f(x(s.longitude)))" y="\(f(y(s.latitude) + 4))" font-size="11" fill="#fff" text-anchor="middle">\(i + 1)</text>\
            <title>\(i + 1). \(s.label) (\(format(s.latitude)), \(format(s.longitude)))</title></g>
            """
        }
        let summary = "\(stops.count) stops: " + stops.enumerated().map { "\($0.offset + 1). \($0.element.label)" }.joined(separator: "; ") + "."
        return """
            <figure class="chart"><svg viewBox="0 0 \(f(width)) \(f(mapHeight))" role="img" aria-label="\(title)" width="100%">\
            <title>\(title)</title><desc>\(summary)</desc><rect width="100%" height="100%" fill="#f4f7fa"/>\(grid)\
            <polyline points="\(route)" fill="none" stroke="#0b4f8a" stroke-width="2" stroke-dasharray="4 3"/>\(pins)\
            <text x="\(f(margin))" y="\(f(mapHeight - 8))" font-size="11">\(format(south))°, \(format(west))°</text>\
            <text x="\(f(width - margin))" y="\(f(margin - 8))" font-size="11" text-anchor="end">\(format(north))°, \(format(east))°</text></svg>\
            <figcaption>\(summary)</figcaption></figure>
            """
    }

    private static func frame(title: String, summary: String, body: HTML) -> HTML {
        """
        <figure class="chart"><svg viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-label="\(title)" width="100%">\
        <title>\(title)</title><desc>\(summary)</desc>\(body)</svg><figcaption>\(title): \(summary)</figcaption></figure>
        """
    }

    private static func axes(top: Double, bottom: Double = 0, unit: String) -> HTML {
        """
        <line x1="\(f(margin))" x2="\(f(margin))" y1="\(f(margin))" y2="\(f(height - margin))" stroke="#555"/>\
        <line x1="\(f(margin))" x2="\(f(width - margin))" y1="\(f(height - margin))" y2="\(f(height - margin))" stroke="#555"/>\
        <text x="\(f(margin - 4))" y="\(f(margin + 4))" font-size="11" text-anchor="end">\(format(top))</text>\
        <text x="\(f(margin - 4))" y="\(f(height - margin))" font-size="11" text-anchor="end">\(format(bottom))</text>\
        <text x="\(f(margin))" y="\(f(margin - 10))" font-size="11">\(unit)</text>
        """
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int(v)) }
        return String(format: abs(v) >= 100 ? "%.0f" : "%.2f", v)
    }
}
