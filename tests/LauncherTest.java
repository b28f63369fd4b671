import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LauncherTest {
    @Test void versionIsPinned() {
        Lab.Result r = Lab.jbang(Lab.ROOT, Duration.ofMinutes(2), "--version");
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("0.132.1", r.all().strip(), r::toString);
    }
}
