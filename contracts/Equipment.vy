# pragma version ~=0.4.3
"""
@title Equipment settings changed by devices, each change recorded with its cause
@notice The operator (the deployer, an organisation's account) names the controller devices
        allowed to change the equipment's settings: a valve's opening, a pump's rate, a crane's
        mode. A setting is an int256 level under a bytes32 name (keccak256 of e.g. "valve.1").
        A controller changes a setting with the reading that caused it (the device that signed
        the reading and its sequence number in the device readings contract), so every
        adjustment on chain points at the signed reading it followed.
"""

MAX_CONTROLLERS: constant(uint256) = 16


event Adjusted:
    setting: indexed(bytes32)
    controller: indexed(address)
    level: int256
    previous: int256
    causeDevice: address
    causeSequence: uint64

event ControllerAllowed:
    controller: indexed(address)
    allowed: bool


operator: public(address)
controllerAllowed: public(HashMap[address, bool])
levelOf: public(HashMap[bytes32, int256])
adjustments: public(uint256)
adjustmentsOf: public(HashMap[bytes32, uint256])
lastController: public(HashMap[bytes32, address])


@deploy
def __init__(controllers: DynArray[address, MAX_CONTROLLERS]):
    """
    @param controllers The devices (their accounts) allowed to change settings, at most 16.
    """
    self.operator = msg.sender
    for c: address in controllers:
        assert c != empty(address), "a controller is the zero address"
        self.controllerAllowed[c] = True
        log ControllerAllowed(controller=c, allowed=True)


@external
def allow(controller: address, allowed: bool):
    """
    @notice The operator allows (or stops allowing) a controller device.
    """
    assert msg.sender == self.operator, "only the operator may allow controllers"
    assert controller != empty(address), "the controller is the zero address"
    self.controllerAllowed[controller] = allowed
    log ControllerAllowed(controller=controller, allowed=allowed)


@external
def adjust(setting: bytes32, level: int256, causeDevice: address, causeSequence: uint64):
    """
    @notice A controller sets `setting` to `level` because of a reading.
    @param setting The setting's name hash (keccak256 of e.g. "valve.1").
    @param level The new level (e.g. 1 open, 0 closed; a pump's rate in percent).
    @param causeDevice The device whose signed reading caused the change (zero: none).
    @param causeSequence That reading's sequence number (0: none).
    """
    assert self.controllerAllowed[msg.sender], "not a controller the operator allows"
    previous: int256 = self.levelOf[setting]
    self.levelOf[setting] = level
    self.adjustments += 1
    self.adjustmentsOf[setting] += 1
    self.lastController[setting] = msg.sender
    log Adjusted(setting=setting, controller=msg.sender, level=level, previous=previous, causeDevice=causeDevice,
                 causeSequence=causeSequence)
