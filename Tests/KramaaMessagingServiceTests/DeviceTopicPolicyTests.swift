import KramaaBroker
import KramaaMessagingService
import KramaaPlatform
import Testing

/// The rules a device's topics follow, over a made-up registry: devices 0xa1, 0xa2 of
/// organisation 1, 0xb1 of organisation 2; organisation 2 grants organisation 1 `subscribe`.
@Suite struct DeviceTopicPolicyTests {
    let a1 = Principal(name: "0xa1", group: "1")
    let policy = DeviceTopicPolicy(organizationOf: { ["0xa1": "1", "0xa2": "1", "0xb1": "2"][$0] },
                                   rightsOf: { org, peer in org == "2" && peer == "1" ? .subscribe : [] })

    @Test func aDeviceOwnsItsNamespaceAndReachesItsOrganisation() {
        #expect(policy.mayPublish(a1, topic: "devices/0xa1/telemetry") == nil)
        #expect(policy.maySubscribe(a1, filter: "devices/0xa1/#") == nil)
        #expect(policy.mayPublish(a1, topic: "devices/0xa2/inbox") == nil)
        #expect(policy.mayPublish(a1, topic: "orgs/1/alerts") == nil)
    }

    @Test func anotherOrganisationIsReachedOnlyAsItGranted() {
        #expect(policy.maySubscribe(a1, filter: "devices/0xb1/telemetry") == nil)     // granted: subscribe
        #expect(policy.mayPublish(a1, topic: "devices/0xb1/inbox")?.reasonCode == 0x87)  // not granted: publish
        #expect(policy.maySubscribe(a1, filter: "orgs/2/#") == nil)
        #expect(policy.mayPublish(a1, topic: "orgs/2/x")?.reasonCode == 0x87)
        let b1 = Principal(name: "0xb1", group: "2")
        #expect(policy.maySubscribe(b1, filter: "devices/0xa1/#")?.reasonCode == 0x87)  // grants are one way
    }

    @Test func wildcardsAcrossDevicesUnknownDevicesAndOtherTopicsAreRefused() {
        for filter in ["#", "devices/+/telemetry", "devices/#", "+/0xa1/x", "sandbox/x", "devices/0xA2/x", "devices/0xff/x"] {
            #expect(policy.maySubscribe(a1, filter: filter)?.reasonCode == 0x87, "\(filter)")
        }
    }

    @Test func anonymousClientsAreConfinedToTheirMountAndOperatorsGoAnywhere() {
        let anonymous = Principal(name: "anonymous", mountPoint: DeviceTopicPolicy.anonymousMountPoint)
        #expect(policy.mayPublish(anonymous, topic: "sandbox/anything") == nil)
        #expect(policy.mayPublish(anonymous, topic: "devices/0xa1/inbox")?.reasonCode == 0x87)
        let bridge = Principal(name: "bridge", group: DeviceTopicPolicy.operatorGroup)
        #expect(policy.mayPublish(bridge, topic: "devices/0xa1/inbox") == nil)
    }

    @Test func aBridgeMountIsReadOnlyByItsNamedOrganisationsAndWrittenByNoDevice() {
        let bridged = DeviceTopicPolicy(organizationOf: { _ in nil }, bridgeReaders: ["site_1883": ["1"]])
        #expect(bridged.maySubscribe(a1, filter: "bridges/site_1883/#") == nil)
        #expect(bridged.mayPublish(a1, topic: "bridges/site_1883/x")?.reasonCode == 0x87)
        #expect(bridged.maySubscribe(Principal(name: "0xb1", group: "2"), filter: "bridges/site_1883/#")?.reasonCode == 0x87)
        for filter in ["bridges/other_1883/#", "bridges/+/#", "bridges/#"] {
            #expect(bridged.maySubscribe(a1, filter: filter)?.reasonCode == 0x87, "\(filter)")
        }
        #expect(policy.maySubscribe(a1, filter: "bridges/site_1883/#")?.reasonCode == 0x87)  // no readers named
    }

    @Test func aForgottenGrantIsReadAgain() {
        nonisolated(unsafe) var granted: MessagingPolicy.Rights = .publish
        let changing = DeviceTopicPolicy(organizationOf: { ["0xa1": "1", "0xb1": "2"][$0] }, rightsOf: { _, _ in granted })
        #expect(changing.mayPublish(a1, topic: "devices/0xb1/x") == nil)
        granted = []
        #expect(changing.mayPublish(a1, topic: "devices/0xb1/x") == nil)  // cached until the chain says it changed
        changing.forgetGrants()
        #expect(changing.mayPublish(a1, topic: "devices/0xb1/x")?.reasonCode == 0x87)
    }
}
