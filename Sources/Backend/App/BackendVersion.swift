/// The rack API's version, as `/api/health` reports it.
public enum BackendVersion {
    public static let current = "1.0.0"
}
