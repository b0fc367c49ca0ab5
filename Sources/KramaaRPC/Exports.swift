// The JSON value and hex quantities are part of this module's API (requests and results are JSON).
@_exported import KramaaJSON
