import KramaaEVM

extension SystemContracts {
    /// The platform's contracts: organisations, devices, assets, provenance, message deliveries, messaging rights, the file
    /// registry, device policies (with their rule on every transaction), device readings, triggers (with the block
    /// hook that begins each block with the due ones) and private data collections.
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
        Triggers.address: Triggers(),
        PrivateDataCollections.address: PrivateDataCollections(),
    ], gate: DevicePolicyGate(), blockHook: TriggerHook())
}
