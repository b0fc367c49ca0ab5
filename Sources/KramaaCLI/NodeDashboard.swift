import KramaaAPI
import KramaaAuth
import KramaaDashboard
import KramaaEPCISIndex
import KramaaRPC

extension NodeRunner {
    /// Mounts the dashboard (docs/DASHBOARD.md): the explorer under `/dashboard` (and browsers'
    /// `GET /`) behind the read gate like the other reads, and the consumer page at GS1 Digital
    /// Link paths, open like `/verify` (without the journey when reads are closed).
    func mountDashboard(into routes: inout HTTPRoutes, api: EthAPI, index: EPCISIndex, anchors: (any AnchorDirectory)?) {
        var dashboard = Dashboard(node: node, index: index) { number in anchors?.anchors(of: number).map(\.summary) ?? [] }
        dashboard.consumerJourney = !closedReads  // closed reads: the open consumer page shows no history
        routes.mount(Dashboard.prefix, ReadGatedEndpoint(dashboard, access: api.access))
        routes.mount(Dashboard.digitalLinkPrefix, dashboard)
    }
}
