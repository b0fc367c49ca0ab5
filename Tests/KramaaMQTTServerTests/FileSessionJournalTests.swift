import Foundation
import KramaaBroker
import KramaaMQTT
@testable import KramaaMQTTServer
import Testing

@Suite struct FileSessionJournalTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kramaa-journal-\(UUID().uuidString)").path
    }

    func sampleChanges() -> [JournalChange] {
        var properties = MQTTProperties()
        properties.append(.userProperty, .pair("k", "v"))
        properties.append(.correlationData, .binary([1, 2, 3]))
        let message = BrokerMessage(topic: "a/b", payload: Array(repeating: 7, count: 70_000), qos: 2, retain: true,
                                    properties: properties, expiresAt: 1_800_000_000, origin: "pub")
        let principal = Principal(name: "0xabc", mountPoint: "", group: "5")
        return [
            .session(clientID: "c", principal: principal, expiryInterval: 600, disconnectedAt: 1_700_000_000),
            .subscribed(clientID: "c", Subscription(filter: "a/#", shareGroup: "g", qos: 2, noLocal: false, retainAsPublished: true,
                                                     retainHandling: 1, identifier: 300)),
            .queued(clientID: "c", PersistedDelivery(sequence: 1, message: message, subscriptionIdentifiers: [300, 7])),
            .queued(clientID: "c", PersistedDelivery(sequence: 2, message: message)),
            .sent(clientID: "c", sequence: 1, packetIdentifier: 9),
            .released(clientID: "c", sequence: 1),
            .completed(clientID: "c", sequence: 2),
            .incomingQoS2(clientID: "c", packetIdentifier: 4, pending: true),
            .retained(topic: "a/b", message),
        ]
    }

    @Test func everyChangeKindSurvivesTheFileAndAReopen() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var expected = JournalState()
        do {
            let journal = try FileSessionJournal(path: path)
            for change in sampleChanges() {
                journal.record(change)
                expected.apply(change)
            }
            try journal.commit()
        }
        let reopened = try FileSessionJournal(path: path)
        let (sessions, retained) = try reopened.load()
        #expect(sessions == Array(expected.sessions.values))
        #expect(retained == Array(expected.retained.values))
        #expect(sessions.first?.messages.map(\.sequence) == [1])
        #expect(sessions.first?.messages.first?.released == true)
        #expect(sessions.first?.messages.first?.subscriptionIdentifiers == [300, 7])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aCommitCutShortByACrashIsDroppedWholeAndEarlierOnesKept() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let journal = try FileSessionJournal(path: path)
            journal.record(.session(clientID: "kept", principal: Principal(name: "p"), expiryInterval: 60, disconnectedAt: nil))
            try journal.commit()
            journal.record(.session(clientID: "torn", principal: Principal(name: "p"), expiryInterval: 60, disconnectedAt: nil))
            try journal.commit()
        }
        // Cut the last record short, as a kill during its write would.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 3)
        try handle.close()
        let (sessions, _) = try FileSessionJournal(path: path).load()
        #expect(sessions.map(\.clientID) == ["kept"])
    }

    @Test func recordedButUncommittedChangesAreNotInTheFile() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let journal = try FileSessionJournal(path: path)
            journal.record(.sessionRemoved(clientID: "x"))
            journal.record(.session(clientID: "never", principal: Principal(name: "p"), expiryInterval: 60, disconnectedAt: nil))
        }
        #expect(try FileSessionJournal(path: path).load().sessions.isEmpty)
    }
}
