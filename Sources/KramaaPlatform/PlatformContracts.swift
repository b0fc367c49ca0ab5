import KramaaEVM

extension SystemContracts {
    /// The platform's contracts: organisations, devices, assets, provenance, message deliveries, messaging rights, the file
    /// registry, device policies and device readings, with the device policies' rule on every transaction.
    public static let platform = SystemContracts([
        OrganizationRegistry.address: OrganizationRegistry(),
        DeviceRegistry.address: DeviceRegistry(),
        AssetRegistry.address: AssetRegistry(),
        ProvenanceRegistry.address: ProvenanceRegistry(),
        DeliveryRegistry.address: DeliveryRegistry(),
        MessagingPolicy.address: MessagingPolicy(),
        FileRegistry.address: FileRegistry(),
        DevicePolicies.address: DevicePolicies(),
        DeviceReadings.address: DeviceReadings(),
    ], gate: DevicePolicyGate())
}
