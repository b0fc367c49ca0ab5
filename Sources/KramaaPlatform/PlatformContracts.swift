import KramaaEVM

extension SystemContracts {
    /// The platform's contracts: organisations, devices, assets, provenance, message deliveries and messaging rights.
    public static let platform = SystemContracts([
        OrganizationRegistry.address: OrganizationRegistry(),
        DeviceRegistry.address: DeviceRegistry(),
        AssetRegistry.address: AssetRegistry(),
        ProvenanceRegistry.address: ProvenanceRegistry(),
        DeliveryRegistry.address: DeliveryRegistry(),
        MessagingPolicy.address: MessagingPolicy(),
    ])
}
