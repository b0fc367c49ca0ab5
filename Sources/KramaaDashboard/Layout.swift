import Foundation
import KramaaRPC

/// A page of the dashboard: a title, its main content and an optional script, in the common
/// frame (header with the search box, navigation, footer) and the one style sheet.
struct Page {
    var title: String
    var main: HTML
    var status = 200
    /// Vanilla JavaScript run after the page loads (live updates); the page reads fine without it.
    var script: HTML = .empty
    /// Whether the page shows the explorer's navigation and search (the consumer page does not).
    var explorerFrame = true
    /// A `Location` to send the browser to (with a 3xx status).
    var redirect: String?
    /// The page's language (`lang` of the document).
    var language = "en"
    /// `Link` header values (the resolver's link types).
    var links: [String] = []
    /// A body other than HTML (a linkset), with its content type.
    var body: (text: String, contentType: String)?
    /// The file name a browser saves `body` under (`Content-Disposition: attachment`).
    var download: String?

    var response: HTTPResponse {
        if let body {
            var r = HTTPResponse.text(body.text, contentType: body.contentType, status: status)
            if let download { r.headers.append(("content-disposition", "attachment; filename=\"\(download)\"")) }
            return r
        }
        var r = HTTPResponse.text(render().text, contentType: "text/html; charset=utf-8", status: status)
        for link in links { r.headers.append(("link", link)) }
        r.headers += [("cache-control", "no-store"), ("x-content-type-options", "nosniff"),
                      ("content-security-policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:")]
        if let redirect { r.headers.append(("location", redirect)) }
        return r
    }

    func render() -> HTML {
        let frame: HTML = explorerFrame ? """
            <nav aria-label="Main"><a href="/dashboard">Blocks</a> <a href="/dashboard/validators">Validators</a> <a href="/dashboard/operations">Operations</a> <a href="/dashboard/pool">Pool</a> <a href="/dashboard/anchors">Anchors</a></nav>
            <form role="search" action="/dashboard/search" method="get">
            <label class="sr" for="q">Search</label>
            <input id="q" name="q" type="search" placeholder="block, transaction, address, EPC URI or Digital Link" required>
            <button type="submit">Go</button></form>
            """ : .empty
        let scriptTag: HTML = script.text.isEmpty ? .empty : "<script>\(script)</script>"
        return """
            <!doctype html>
            <html lang="\(language)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,">
            <title>\(title) · Kramaa</title>
            <style>\(Self.css)</style></head>
            <body><header><a class="brand" href="/dashboard">Kramaa</a>\(frame)</header>
            <main id="main">\(main)</main>
            <footer><p>Served by this Kramaa node. Every page is read-only.</p></footer>\(scriptTag)
            </body></html>
            """
    }

    /// An HTML error page (404 for unknown ids and paths, 400 for malformed terms).
    static func error(status: Int, title: String, message: String) -> Page {
        Page(title: title, main: "<h1>\(title)</h1><p class=\"notice\" role=\"alert\">\(message)</p><p><a href=\"/dashboard\">Back to the explorer</a></p>",
             status: status)
    }

    static let css: HTML = """
        :root{--fg:#1a1a1a;--muted:#555;--bg:#fff;--line:#d0d0d0;--accent:#0b4f8a;--ok:#0a6b2f;--bad:#a4121b;--warn:#7a4b00}
        *{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
        header{background:#0b2545;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
        header a{color:#fff}.brand{font-weight:700;font-size:1.2rem;text-decoration:none}nav a{margin-right:.75rem}
        form[role=search]{display:flex;flex:1 1 18rem;gap:.25rem;align-items:center}
        input[type=search]{flex:1;min-width:0;padding:.4rem;font:inherit;border:1px solid var(--line);border-radius:3px}
        button{padding:.4rem .8rem;font:inherit;background:#e8eef5;border:1px solid #9ab;border-radius:3px}
        main{max-width:72rem;margin:0 auto;padding:1rem;overflow-wrap:anywhere}footer{color:var(--muted);font-size:.85rem;padding:1rem;text-align:center}
        a{color:var(--accent)}.sr{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.2rem;margin-top:1.5rem}
        .scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{font-weight:600}dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;min-width:0;overflow-wrap:anywhere}
        .mono,code{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}
        .notice{padding:.75rem;border:1px solid var(--line);background:#f6f6f6}pre{white-space:pre-wrap}
        .verdict{padding:1rem;border-radius:6px;font-size:1.3rem;font-weight:700;color:#fff}
        .verdict.second{font-size:1.05rem;padding:.6rem}
        .good{background:var(--ok)}.bad{background:var(--bad)}.warn{background:var(--warn)}
        .tag{display:inline-block;padding:0 .4rem;border-radius:3px;background:#e4efe7;color:var(--ok);font-size:.85em}
        .tag.missing{background:#f7e1e2;color:var(--bad)}
        ol.timeline{list-style:none;padding:0;border-left:3px solid var(--accent);margin-left:.5rem}
        ol.timeline>li{margin:0 0 1rem 0;padding-left:1rem;position:relative}
        ol.timeline>li::before{content:"";position:absolute;left:-.55rem;top:.45rem;width:.8rem;height:.8rem;border-radius:50%;background:var(--accent)}
        figure.chart{margin:.5rem 0;max-width:44rem}figure.chart svg{max-width:100%;height:auto;background:#fafbfc;border:1px solid var(--line)}
        figure.chart figcaption{color:var(--muted);font-size:.85rem}
        @media (max-width:40rem){dl{grid-template-columns:minmax(0,1fr)}dt{margin-top:.5rem}main{padding:.5rem}}
        """
}
