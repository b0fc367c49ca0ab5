/* The board support of the emulated device (QEMU mps2-an386, Cortex-M4): the vector table and
   reset, the UART the frames go out on, SysTick as an instruction counter (with -icount shift=0
   one instruction is one nanosecond of virtual time), stack painting for peak stack use, a
   counted bump heap for the Embedded Swift runtime, and ARM semihosting for what a real board
   has in hardware: the clock (RTC), the entropy source (TRNG) and the key storage (flash),
   here files on the host. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

extern uint32_t _data_load, _data_start, _data_end, _bss_start, _bss_end;
extern uint32_t _stack_bottom, _stack_top, _heap_start, _heap_end;
extern void kramaa_firmware_main(void);

/* ---- UART0 (CMSDK APB UART) ---- */
#define UART0 ((volatile uint32_t *)0x40004000u)
enum { UART_DATA = 0, UART_STATE = 1, UART_CTRL = 2, UART_BAUDDIV = 4 };

void board_putc(uint8_t c) {
    while (UART0[UART_STATE] & 1u) { }
    UART0[UART_DATA] = c;
}

static void put_text(const char *text) { for (; *text; text++) board_putc((uint8_t)*text); }

/* ---- SysTick: virtual-time ticks at the 25 MHz system clock ---- */
#define SYST ((volatile uint32_t *)0xE000E010u)
enum { SYST_CSR = 0, SYST_RVR = 1, SYST_CVR = 2 };
static volatile uint32_t systick_wraps;
void systick_handler(void) { systick_wraps++; }

#define ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)

/* Ticks since boot (24-bit counter extended by the wrap interrupt). The counter counts down
   0xFFFFFF ... 1, 0 and raises the interrupt as it reaches 0, so 0 is the first tick of the next
   period (as is the 0 written at boot), not the last of this one. The interrupt can still be
   pending (not yet counted in systick_wraps) when the counter is read: a pending interrupt seen
   after 0 or a high value (just reloaded) is a wrap to count here; after a low value, the wrap
   came after the reading. Either mistake would make the time go back by 2^24 ticks. */
uint64_t board_ticks(void) {
    uint32_t wraps, value, pending;
    do {
        wraps = systick_wraps;
        value = SYST[SYST_CVR];
        pending = ICSR & ICSR_PENDSTSET;
    } while (wraps != systick_wraps);
    if (pending && (value == 0 || value > 0x7FFFFFu)) wraps++;
    return (uint64_t)wraps * 0x1000000u + ((0x1000000u - value) & 0xFFFFFFu);
}

/* ---- stack painting ---- */
#define PAINT 0xC5C5C5C5u
/* Paints the free stack below the caller's frame. */
void board_paint_stack(void) {
    uint32_t *p = &_stack_bottom;
    uint32_t *limit = (uint32_t *)__builtin_frame_address(0) - 16;
    while (p < limit) *p++ = PAINT;
}
/* Bytes of stack used at the deepest point since boot or the last paint (from the stack's top). */
uint32_t board_stack_peak(void) {
    uint32_t *p = &_stack_bottom;
    while (p < &_stack_top && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)p);
}
/* Bytes of stack in use now. */
uint32_t board_stack_now(void) {
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)__builtin_frame_address(0));
}

/* ---- heap: a bump allocator that counts (the runtime asks for memory; signing must not) ---- */
static uint8_t *heap_next;
static uint32_t heap_allocations;
uint32_t board_allocations(void) { return heap_allocations; }
uint32_t board_heap_used(void) { return (uint32_t)(heap_next - (uint8_t *)&_heap_start); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < 8) alignment = 8;
    uintptr_t p = ((uintptr_t)heap_next + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (p + size > (uintptr_t)&_heap_end) return 12; /* ENOMEM */
    heap_next = (uint8_t *)(p + size);
    heap_allocations++;
    *out = (void *)p;
    return 0;
}
void free(void *p) { (void)p; }

/* ---- semihosting ---- */
static int semihost(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_TIME = 0x11, SYS_GET_CMDLINE = 0x15, SYS_EXIT_EXTENDED = 0x20 };

/* The board's clock: Unix seconds (a real board: its RTC, set over the network or at the factory). */
uint64_t board_unix_time(void) { return (uint32_t)semihost(SYS_TIME, 0); }

static char cmdline[512];
static int cmdline_read;
/* Argument `index` (0: the image) of the semihosting command line into `out`; its length or -1. */
int board_argument(int index, char *out, int capacity) {
    if (!cmdline_read) {
        uint32_t block[2] = { (uint32_t)(uintptr_t)cmdline, sizeof cmdline - 1 };
        if (semihost(SYS_GET_CMDLINE, block) != 0) block[1] = 0;
        cmdline[block[1]] = 0;
        cmdline_read = 1;
    }
    const char *p = cmdline;
    for (int i = 0; ; i++) {
        while (*p == ' ') p++;
        if (!*p) return -1;
        const char *start = p;
        while (*p && *p != ' ') p++;
        if (i == index) {
            int n = (int)(p - start);
            if (n > capacity) return -1;
            memcpy(out, start, (size_t)n);
            return n;
        }
    }
}

static int file_open(const char *path, int mode) {
    uint32_t block[3] = { (uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path) };
    return semihost(SYS_OPEN, block);
}
static int file_transfer(int op, int handle, void *buffer, uint32_t length) {
    uint32_t block[3] = { (uint32_t)handle, (uint32_t)(uintptr_t)buffer, length };
    return semihost(op, block); /* bytes NOT transferred */
}
static void file_close(int handle) { uint32_t block[1] = { (uint32_t)handle }; semihost(SYS_CLOSE, block); }

/* The entropy source: 1 when `length` random bytes were written (a real board: its TRNG). */
int board_entropy(uint8_t *buffer, uint32_t length) {
    int h = file_open("/dev/urandom", 1 /* rb */);
    if (h < 0) return 0;
    int missing = file_transfer(SYS_READ, h, buffer, length);
    file_close(h);
    return missing == 0;
}

/* Key storage (a real board: a flash page or a secure element's slot): `length` bytes. */
int board_storage_read(const char *path, uint8_t *buffer, uint32_t length) {
    int h = file_open(path, 1 /* rb */);
    if (h < 0) return 0;
    int missing = file_transfer(SYS_READ, h, buffer, length);
    file_close(h);
    return missing == 0;
}
int board_storage_write(const char *path, const uint8_t *buffer, uint32_t length) {
    int h = file_open(path, 5 /* wb */);
    if (h < 0) return 0;
    int missing = file_transfer(SYS_WRITE, h, (void *)buffer, length);
    file_close(h);
    return missing == 0;
}

void board_exit(int code) {
    /* SYS_EXIT_EXTENDED: the exit code reaches the host (QEMU's own exit status). */
    uint32_t block[2] = { 0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code };
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) { }
}

/* ---- what the Embedded Swift runtime and compiler expect ---- */
uintptr_t __stack_chk_guard = 0x5a17c0deu;
void __stack_chk_fail(void) {
    put_text("stack smashing detected\n");
    board_exit(3);
}
void arc4random_buf(void *buffer, size_t length) {
    if (!board_entropy(buffer, (uint32_t)length)) board_exit(4);
}

/* ---- reset ---- */
void reset_handler(void) {
    uint32_t *src = &_data_load, *dst = &_data_start;
    while (dst < &_data_end) *dst++ = *src++;
    for (dst = &_bss_start; dst < &_bss_end; dst++) *dst = 0;
    heap_next = (uint8_t *)&_heap_start;
    board_paint_stack();
    UART0[UART_BAUDDIV] = 16;
    UART0[UART_CTRL] = 1; /* TX enable */
    SYST[SYST_RVR] = 0xFFFFFFu;
    SYST[SYST_CVR] = 0;
    SYST[SYST_CSR] = 7; /* processor clock, interrupt, enable */
    kramaa_firmware_main();
    board_exit(0);
}

static void put_hex(uint32_t value) {
    put_text("0x");
    for (int shift = 28; shift >= 0; shift -= 4) board_putc((uint8_t)"0123456789abcdef"[(value >> shift) & 0xF]);
}

/* Where the fault happened (the exception frame's pc and lr, and the fault status register), so
   `arm-none-eabi-addr2line -e kramaa-firmware.elf PC` names the line; a Swift trap (bounds,
   overflow) is a `udf` instruction and shows as an undefined-instruction usage fault (CFSR bit 16). */
__attribute__((used)) void board_fault_report(const uint32_t *frame) {
    put_text("fault pc=");
    put_hex(frame[6]);
    put_text(" lr=");
    put_hex(frame[5]);
    put_text(" cfsr=");
    put_hex(*(volatile uint32_t *)0xE000ED28u);
    put_text("\n");
    board_exit(2);
}

__attribute__((naked)) static void fault_handler(void) {
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b board_fault_report\n");
}

__attribute__((section(".vectors"), used))
const void *const vector_table[16] = {
    &_stack_top, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, systick_handler,
};
