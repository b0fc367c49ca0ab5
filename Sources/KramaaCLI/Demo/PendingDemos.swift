// TEMPORARY while the scenarios are written: removed before the issue is closed.
struct IrrigationDemo { let stage: DemoStage; func run() async throws { throw DemoFailure("irrigation is not built yet") } }
struct SparePartDemo { let stage: DemoStage; func run() async throws { throw DemoFailure("spare-part is not built yet") } }
struct FleetDemo { let stage: DemoStage; func run() async throws { throw DemoFailure("fleet is not built yet") } }
