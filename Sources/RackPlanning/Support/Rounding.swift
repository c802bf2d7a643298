extension Double {
    /// This value rounded to `places` decimal places, halves to even.
    ///
    /// The API reports most figures to 2 dp and the reference service used Python's `round`,
    /// which rounds exact halves to even; rounding the same way keeps our numbers identical to
    /// the ones its clients were written against (`0.125` → `0.12`, `0.375` → `0.38`).
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded(.toNearestOrEven) / scale
    }
}
