// TEMPORARY while the scenarios are written: removed before the issue is closed.
struct IrrigationDemo { let stage: DemoStage; func run() async throws { throw DemoFailure("irrigation is not built yet") } }
