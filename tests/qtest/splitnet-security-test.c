/*
 * QTest testcases for splitnet against a hostile guest
 *
 * Every guest address the device dereferences (TX ring, header pool,
 * status block, TX fragments copied and referenced, RX buffers, MSI-X
 * message addresses) is pointed at each kind of target a guest can name:
 * the end of RAM, a ROM device in ROMD mode (pflash, at its ISA BIOS alias
 * and at 4 GiB), MMIO, unassigned space, the device's own BARs and config
 * space, and an address that wraps 2^64.  Each case runs on q35 with and
 * without intel-iommu (identity-mapped), and QEMU must survive it with the
 * device in the state docs/specs/splitnet.rst gives for it.
 *
 * The machine is programmed by hand, through 0xcf8/0xcfc and MMCONFIG,
 * the way the two crashes this file guards against were reproduced.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "hw/pci/pci_regs.h"
#include "standard-headers/linux/splitnet.h"

#define RAM_SIZE        (256 * MiB)
#define FLASH_SIZE      (4 * MiB)

#define MMCFG           0xb0000000ull
#define BAR0            0xe0000000ull
#define BAR1            0xe0004000ull
#define DEV             4
#define CFG_ADDR(off)   (0x80000000u | (DEV << 11) | (off))
#define MMCFG_DEV       (MMCFG + (DEV << 15))
#define VTD             0xfed90000ull

/* Guest RAM layout. */
#define STATUS          0x1000000ull
#define TX_RING         0x1010000ull
#define RX_RING         0x1020000ull
#define POOL            0x1100000ull
#define TX_BUF          0x1200000ull
#define RX_BUF          0x1300000ull
#define IOMMU_TABLES    0x2000000ull
#define MSI_RAM         0x3000000ull

#define RING_SIZE       8
#define SLOT_SIZE       128
#define TXQ             SPLITNET_TXQ(0)
#define RXQ             SPLITNET_RXQ(0)
#define VEC_TX          1
#define VEC_RX          2
#define FRAME_LEN       60

typedef enum Target {
    T_RAM_END,
    T_ROMD_BIOS,
    T_ROMD_4G,
    T_MMIO,
    T_UNASSIGNED,
    T_OWN_BAR0,
    T_OWN_MSIX_BAR,
    T_OWN_CONFIG,
    T_WRAP,
    T_COUNT
} Target;

/*
 * Each target is where guest RAM ends or something else begins: an area
 * (ring, pool, status entry) starts AREA_LEAD bytes before it, a fragment
 * or buffer FRAG_LEAD bytes before it, so both reach across.
 */
#define AREA_LEAD       128     /* keeps areas slot-aligned */
#define FRAG_LEAD       16

static const struct {
    const char *name;
    uint64_t boundary;
} targets[T_COUNT] = {
    [T_RAM_END] = { "ram-end", RAM_SIZE },
    [T_ROMD_BIOS] = { "romd-bios", 0x100000 },
    [T_ROMD_4G] = { "romd-4g", 0x100000000ull },
    [T_MMIO] = { "mmio", 0xfed00000ull + AREA_LEAD },   /* HPET */
    [T_UNASSIGNED] = { "unassigned", 0x40000000ull + AREA_LEAD },
    [T_OWN_BAR0] = { "own-bar0", BAR0 + AREA_LEAD },
    [T_OWN_MSIX_BAR] = { "own-msix-bar", BAR1 + AREA_LEAD },
    [T_OWN_CONFIG] = { "own-config", MMCFG_DEV + AREA_LEAD },
    [T_WRAP] = { "wrap", 0 },                           /* 2^64 */
};

static uint64_t area_addr(Target t)
{
    return targets[t].boundary - AREA_LEAD;
}

static uint64_t frag_addr(Target t)
{
    return targets[t].boundary - FRAG_LEAD;
}

typedef enum Pointer {
    P_RING,
    P_RX_RING,
    P_POOL,
    P_STATUS,
    P_TX_COPY,
    P_TX_REF,
    P_RX_BUF,
    P_MSIX,
    P_COUNT
} Pointer;

static const char *const pointers[P_COUNT] = {
    [P_RING] = "tx-ring", [P_RX_RING] = "rx-ring", [P_POOL] = "pool",
    [P_STATUS] = "status",
    [P_TX_COPY] = "tx-frag-copied", [P_TX_REF] = "tx-frag-referenced",
    [P_RX_BUF] = "rx-buffer", [P_MSIX] = "msix-address",
};

typedef struct Case {
    Pointer p;
    Target t;
    bool iommu;
} Case;

typedef struct Ctx {
    QTestState *qts;
    int sock;
    char *flash;
} Ctx;

/* Machine */

static void cfg_writel(Ctx *c, uint32_t off, uint32_t val)
{
    qtest_outl(c->qts, 0xcf8, CFG_ADDR(off & ~3));
    qtest_outl(c->qts, 0xcfc, val);
}

static void cfg_writew(Ctx *c, uint32_t off, uint16_t val)
{
    qtest_outl(c->qts, 0xcf8, CFG_ADDR(off & ~3));
    qtest_outw(c->qts, 0xcfc + (off & 2), val);
}

static uint32_t cfg_readl(Ctx *c, uint32_t off)
{
    qtest_outl(c->qts, 0xcf8, CFG_ADDR(off & ~3));
    return qtest_inl(c->qts, 0xcfc);
}

static uint8_t msix_cap(Ctx *c)
{
    uint8_t pos = cfg_readl(c, PCI_CAPABILITY_LIST) & 0xff;

    while (pos) {
        uint32_t hdr = cfg_readl(c, pos);

        if ((hdr & 0xff) == PCI_CAP_ID_MSIX) {
            return pos;
        }
        pos = (hdr >> 8) & 0xff;
    }
    g_assert_not_reached();
}

/*
 * 39-bit second-level tables mapping the low 4 GiB 1:1: 1 GiB pages, and
 * 2 MiB pages for the top GiB, which leave out the interrupt range
 * intel-iommu refuses to map.  So IOVAs reach RAM, ROM and MMIO alike.
 */
static void iommu_identity_map(Ctx *c)
{
    uint64_t root = IOMMU_TABLES, ctx = root + 0x1000, pml = root + 0x2000;
    uint64_t pd = root + 0x3000, addr;
    unsigned i;

    qtest_memset(c->qts, root, 0, 0x4000);
    qtest_writeq(c->qts, root, ctx | 1);
    /* Context entry of devfn DEV.0: present, 3 levels (AW 1), domain 1. */
    qtest_writeq(c->qts, ctx + (DEV << 3) * 16, pml | 1);
    qtest_writeq(c->qts, ctx + (DEV << 3) * 16 + 8, (1 << 8) | 1);
    for (i = 0; i < 3; i++) {
        qtest_writeq(c->qts, pml + i * 8, ((uint64_t)i << 30) | 0x83);
    }
    qtest_writeq(c->qts, pml + 3 * 8, pd | 3);
    for (i = 0; i < 512; i++) {
        addr = (3ull << 30) + ((uint64_t)i << 21);
        if (addr != 0xfee00000ull) {
            qtest_writeq(c->qts, pd + i * 8, addr | 0x83);
        }
    }
    qtest_writeq(c->qts, VTD + 0x20, root);             /* RTADDR */
    qtest_writel(c->qts, VTD + 0x18, 1u << 30);         /* SRTP */
    g_assert(qtest_readl(c->qts, VTD + 0x1c) & (1u << 30));
    qtest_writel(c->qts, VTD + 0x18, 1u << 31);         /* TE */
    g_assert(qtest_readl(c->qts, VTD + 0x1c) & (1u << 31));
}

static Ctx *machine_start_with(bool iommu, const char *extra)
{
    Ctx *c = g_new0(Ctx, 1);
    int sv[2], fd;

    fd = g_file_open_tmp("splitnet-flash-XXXXXX", &c->flash, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, FLASH_SIZE), ==, 0);
    close(fd);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    c->sock = sv[0];
    c->qts = qtest_initf("-machine q35 -m %u -drive if=pflash,format=raw,"
                         "readonly=on,file=%s %s -netdev socket,id=n0,fd=%d "
                         "-device splitnet,addr=%02x.0,netdev=n0,romfile=%s",
                         (unsigned)(RAM_SIZE / MiB), c->flash,
                         iommu ? "-device intel-iommu,aw-bits=39,intremap=off"
                               : "", sv[1], DEV, extra);
    close(sv[1]);
    if (strstr(extra, "-incoming")) {
        return c;
    }

    qtest_outl(c->qts, 0xcf8, 0x80000060);              /* PCIEXBAR */
    qtest_outl(c->qts, 0xcfc, MMCFG | 1);
    cfg_writel(c, PCI_BASE_ADDRESS_0, BAR0);
    cfg_writel(c, PCI_BASE_ADDRESS_1, BAR1);
    cfg_writew(c, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmphex(qtest_readl(c->qts, BAR0 + SPLITNET_REG_MAGIC), ==,
                    SPLITNET_MAGIC);
    if (iommu) {
        iommu_identity_map(c);
    }
    return c;
}

static Ctx *machine_start(bool iommu)
{
    return machine_start_with(iommu, "");
}

static void machine_stop(Ctx *c)
{
    qtest_quit(c->qts);
    close(c->sock);
    unlink(c->flash);
    g_free(c->flash);
    g_free(c);
}

/* Device */

static uint32_t rd(Ctx *c, uint32_t reg)
{
    return qtest_readl(c->qts, BAR0 + reg);
}

static uint64_t qstat(Ctx *c, int q, int n)
{
    return qtest_readq(c->qts, BAR0 + SPLITNET_QUEUE_REGS(q) +
                       SPLITNET_Q_STAT(n));
}

static void qwr(Ctx *c, int q, uint32_t reg, uint64_t val)
{
    if (reg == SPLITNET_Q_RING_BASE || reg == SPLITNET_Q_POOL_BASE) {
        qtest_writeq(c->qts, BAR0 + SPLITNET_QUEUE_REGS(q) + reg, val);
    } else {
        qtest_writel(c->qts, BAR0 + SPLITNET_QUEUE_REGS(q) + reg, val);
    }
}

static void msix_entry(Ctx *c, int vec, uint64_t addr, uint32_t data)
{
    qtest_writeq(c->qts, BAR1 + vec * 16, addr);
    qtest_writel(c->qts, BAR1 + vec * 16 + 8, data);
    qtest_writel(c->qts, BAR1 + vec * 16 + 12, 0);
}

static void device_init(Ctx *c, uint64_t status)
{
    uint8_t cap = msix_cap(c);
    int vec;

    for (vec = 0; vec < 3; vec++) {
        msix_entry(c, vec, MSI_RAM + vec * 4, 0x1000 + vec);
    }
    cfg_writew(c, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    qtest_writel(c->qts, BAR0 + SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    qtest_writeq(c->qts, BAR0 + SPLITNET_REG_DRV_FEATURES,
                 SPLITNET_F_EVENT_IDX);
    qtest_memset(c->qts, STATUS, 0, SPLITNET_STATUS_BLOCK_SIZE);
    qtest_writeq(c->qts, BAR0 + SPLITNET_REG_STATUS_BASE, status);
}

static void queue_enable(Ctx *c, int q, uint64_t ring, uint64_t pool,
                         int vec)
{
    qwr(c, q, SPLITNET_Q_RING_BASE, ring);
    qwr(c, q, SPLITNET_Q_POOL_BASE, pool);
    qwr(c, q, SPLITNET_Q_RING_SIZE, RING_SIZE);
    qwr(c, q, SPLITNET_Q_VECTOR, vec);
    qwr(c, q, SPLITNET_Q_ENABLE, 1);
}

static void status_write(Ctx *c, int q, size_t field, uint32_t val)
{
    qtest_writel(c->qts, STATUS + q * SPLITNET_STATUS_ENTRY_SIZE + field,
                 val);
}

static uint32_t status_read(Ctx *c, int q, size_t field)
{
    return qtest_readl(c->qts, STATUS + q * SPLITNET_STATUS_ENTRY_SIZE +
                       field);
}

/* Post frame number @n (0-based): a 14-byte head and one fragment. */
static void tx_post(Ctx *c, uint32_t n, uint64_t addr, uint32_t len)
{
    static const uint8_t head[14] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34,
        0x56, 0x08, 0x00,
    };
    struct splitnet_tx_desc d = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
        .hdr_len = cpu_to_le16(sizeof(head)),
        .flags = cpu_to_le16(SPLITNET_TXD_EOP),
    };

    qtest_memwrite(c->qts, POOL + (n % RING_SIZE) * SLOT_SIZE, head,
                   sizeof(head));
    qtest_memwrite(c->qts, TX_RING + (n % RING_SIZE) * sizeof(d), &d,
                   sizeof(d));
    status_write(c, TXQ, offsetof(struct splitnet_queue_status, prod), n + 1);
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, n + 1);
}

static void rx_post(Ctx *c, uint64_t addr, uint16_t len)
{
    struct splitnet_rx_desc d = {
        .addr = cpu_to_le64(addr),
        .buf_len = cpu_to_le16(len),
    };

    qtest_memwrite(c->qts, RX_RING, &d, sizeof(d));
    status_write(c, RXQ, offsetof(struct splitnet_queue_status, prod), 1);
    qwr(c, RXQ, SPLITNET_Q_DOORBELL, 1);
}

static void sock_send_frame(Ctx *c)
{
    uint8_t buf[4 + FRAME_LEN];

    memset(buf, 0xa5, sizeof(buf));
    stl_be_p(buf, FRAME_LEN);
    memset(buf + 4, 0xff, 6);                           /* broadcast */
    g_assert_cmpint(send(c->sock, buf, sizeof(buf), 0), ==, sizeof(buf));
}

/* Let QEMU's main loop read the socket: qtest commands run it. */
static void wait_rx_cons(Ctx *c, uint32_t cons)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (status_read(c, RXQ, offsetof(struct splitnet_queue_status,
                                        cons)) != cons &&
           !(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR)) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(1000);
    }
}

static void assert_error(Ctx *c, uint32_t err)
{
    g_assert(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR), ==, err);
}

static void assert_no_error(Ctx *c)
{
    g_assert_false(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR), ==, SPLITNET_ERR_NONE);
}

/* Cases */

static void case_areas(Ctx *c, const Case *k)
{
    uint64_t a = area_addr(k->t);

    device_init(c, k->p == P_STATUS ? a : STATUS);
    if (k->p == P_RX_RING) {
        queue_enable(c, RXQ, a, 0, VEC_RX);
    } else {
        queue_enable(c, TXQ, k->p == P_RING ? a : TX_RING,
                     k->p == P_POOL ? a : POOL, VEC_TX);
    }
    if (k->p == P_STATUS && k->t == T_RAM_END) {
        /* The TX entry, 64 bytes, still lies in RAM. */
        assert_no_error(c);
        tx_post(c, 0, TX_BUF, 100);
        return;
    }
    /* Not RAM, or not all of it: refused at enable time. */
    assert_error(c, SPLITNET_ERR_XLATE);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 0);
}

static void case_tx_frag(Ctx *c, const Case *k)
{
    uint32_t len = k->p == P_TX_COPY ? 32 : 200;

    device_init(c, STATUS);
    queue_enable(c, TXQ, TX_RING, POOL, VEC_TX);
    tx_post(c, 0, frag_addr(k->t), len);
    /* Dropped as a guest error, completed, and the device goes on. */
    assert_no_error(c);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 1);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 0);
    g_assert_cmpuint(status_read(c, TXQ, offsetof(struct splitnet_queue_status,
                                                  cons)), ==, 1);
    tx_post(c, 1, TX_BUF, len);
    assert_no_error(c);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 1);
}

static void case_rx_buf(Ctx *c, const Case *k)
{
    struct splitnet_rx_desc d;

    device_init(c, STATUS);
    queue_enable(c, RXQ, RX_RING, 0, VEC_RX);
    qtest_writel(c->qts, BAR0 + SPLITNET_REG_CTRL, SPLITNET_CTRL_DRIVER_OK);
    rx_post(c, frag_addr(k->t), 64);
    sock_send_frame(c);
    wait_rx_cons(c, 1);
    /* The buffer comes back empty; the frame is dropped. */
    assert_no_error(c);
    qtest_memread(c->qts, RX_RING, &d, sizeof(d));
    g_assert_cmpuint(le16_to_cpu(d.len), ==, 0);
    g_assert_cmpuint(le16_to_cpu(d.flags), ==, SPLITNET_RXD_EOP);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_ERRORS), ==, 1);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 0);
}

/* The interrupt of a TX completion is a write the guest aimed at @t. */
static void case_msix(Ctx *c, const Case *k)
{
    uint64_t addr = area_addr(k->t);
    uint32_t data = 0;
    uint32_t event = offsetof(struct splitnet_queue_status, doorbell_event);

    switch (k->t) {
    case T_OWN_CONFIG:
        /* PCI_COMMAND = memory only: bus mastering off. */
        addr += PCI_COMMAND;
        data = PCI_COMMAND_MEMORY;
        break;
    case T_OWN_BAR0:
        addr += SPLITNET_REG_CTRL;
        data = SPLITNET_CTRL_RESET;
        break;
    default:
        break;
    }
    device_init(c, STATUS);
    msix_entry(c, VEC_TX, addr, data);
    queue_enable(c, TXQ, TX_RING, POOL, VEC_TX);
    tx_post(c, 0, TX_BUF, 100);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 1);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 1);
    if (k->t == T_OWN_CONFIG) {
        /*
         * Without bus mastering the device may not touch guest memory.
         * It published cons and asked for the next doorbell in one store
         * before the interrupt turned bus mastering off, and stops at its
         * next access (the look at prod that closes the doorbell race).
         */
        g_assert_false(cfg_readl(c, PCI_COMMAND) & PCI_COMMAND_MASTER);
        assert_error(c, SPLITNET_ERR_XLATE);
        g_assert_cmpuint(status_read(c, TXQ, event), ==, 1);
        return;
    }
    /* A write to our own registers from our own DMA is not let in. */
    assert_no_error(c);
    g_assert_cmpuint(status_read(c, TXQ, event), ==, 1);
    g_assert_cmpuint(qtest_readl(c->qts, BAR0 + SPLITNET_QUEUE_REGS(TXQ) +
                                 SPLITNET_Q_ENABLE), ==, 1);
    tx_post(c, 1, TX_BUF, 100);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 2);
}

static void test_matrix_case(const void *opaque)
{
    const Case *k = opaque;
    Ctx *c = machine_start(k->iommu);

    switch (k->p) {
    case P_RING:
    case P_RX_RING:
    case P_POOL:
    case P_STATUS:
        case_areas(c, k);
        break;
    case P_TX_COPY:
    case P_TX_REF:
        case_tx_frag(c, k);
        break;
    case P_RX_BUF:
        case_rx_buf(c, k);
        break;
    case P_MSIX:
        case_msix(c, k);
        break;
    default:
        g_assert_not_reached();
    }
    /* Alive, and its registers still answer. */
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    machine_stop(c);
}

/*
 * The two reproduced crashes, as they were reported: a short fragment
 * across the end of the pflash BIOS alias (SIGSEGV reading past the
 * RAMBlock), and an MSI-X write that clears bus mastering in the middle
 * of a flush behind intel-iommu (SIGSEGV on a destroyed cache).
 */
static void test_crash_romd_copy(void)
{
    Ctx *c = machine_start(false);

    device_init(c, STATUS);
    queue_enable(c, TXQ, TX_RING, POOL, SPLITNET_NO_VECTOR);
    tx_post(c, 0, 0xffff0, 32);
    assert_no_error(c);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 1);
    machine_stop(c);
}

static void test_crash_msix_clears_master(void)
{
    Case k = { .p = P_MSIX, .t = T_OWN_CONFIG, .iommu = true };

    test_matrix_case(&k);
}

/* Migration streams are input too */

static const char *migration_wait(QTestState *qts)
{
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    static char status[32];
    QDict *rsp, *ret;

    for (;;) {
        rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        ret = qdict_get_qdict(rsp, "return");
        g_strlcpy(status, qdict_get_try_str(ret, "status") ?: "",
                  sizeof(status));
        qobject_unref(rsp);
        if (!strcmp(status, "completed") || !strcmp(status, "failed")) {
            return status;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(10000);
    }
}

/* Save a running TX queue of a device with @devopts to @path. */
static void migration_save_with(const char *path, const char *devopts)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    Ctx *c = machine_start_with(false, devopts);

    device_init(c, STATUS);
    queue_enable(c, TXQ, TX_RING, POOL, VEC_TX);
    tx_post(c, 0, TX_BUF, 100);
    qtest_qmp_assert_success(c->qts, "{ 'execute': 'migrate', 'arguments': "
                             "{ 'uri': %s } }", uri);
    g_assert_cmpstr(migration_wait(c->qts), ==, "completed");
    machine_stop(c);
}

static void migration_save(const char *path)
{
    migration_save_with(path, "");
}

/* Load @path into a machine whose device has @devopts. */
static const char *migration_load(const char *path, const char *devopts)
{
    g_autofree char *extra = g_strdup_printf("%s -incoming defer", devopts);
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    Ctx *c = machine_start_with(false, extra);
    const char *status;

    qtest_qmp_assert_success(c->qts, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s, "
                             "'exit-on-error': false } }", uri);
    status = migration_wait(c->qts);
    machine_stop(c);
    return status;
}

/*
 * TX queue 0 as the stream has it: ring base, pool base and ring size,
 * big-endian.  Returns the offset of the ring size.
 */
static size_t stream_find_ring_size(const uint8_t *buf, size_t len)
{
    uint8_t pat[20];
    size_t i;

    stq_be_p(pat, TX_RING);
    stq_be_p(pat + 8, POOL);
    stl_be_p(pat + 16, RING_SIZE);
    for (i = 0; i + sizeof(pat) <= len; i++) {
        if (!memcmp(buf + i, pat, sizeof(pat))) {
            return i + 16;
        }
    }
    g_assert_not_reached();
}

static void test_migration_props_mismatch(void)
{
    g_autofree char *path = g_strdup_printf("%s/splitnet-mig-%d",
                                            g_get_tmp_dir(), getpid());

    migration_save(path);
    /* The same configuration loads: the stream itself is good. */
    g_assert_cmpstr(migration_load(path, ""), ==, "completed");
    g_assert_cmpstr(migration_load(path, ",hdr-slot-size=256"), ==, "failed");
    g_assert_cmpstr(migration_load(path, ",max-ring-size=512"), ==, "failed");
    g_assert_cmpstr(migration_load(path, ",max-mtu=1500"), ==, "failed");
    unlink(path);
}

/*
 * The number of queue pairs must match either way: one pair's stream is
 * that of version 1.2, several pairs' has a subsection that starts with
 * the count.
 */
static void test_migration_queues_mismatch(void)
{
    g_autofree char *path = g_strdup_printf("%s/splitnet-mig-%d",
                                            g_get_tmp_dir(), getpid());

    migration_save(path);
    g_assert_cmpstr(migration_load(path, ",queues=4"), ==, "failed");
    migration_save_with(path, ",queues=4");
    g_assert_cmpstr(migration_load(path, ",queues=4"), ==, "completed");
    g_assert_cmpstr(migration_load(path, ",queues=2"), ==, "failed");
    g_assert_cmpstr(migration_load(path, ""), ==, "failed");
    unlink(path);
}

/* An enabled queue with ring size 0 reached assert(len > 0) before. */
static void test_migration_crafted(void)
{
    g_autofree char *path = g_strdup_printf("%s/splitnet-mig-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree uint8_t *buf = NULL;
    size_t len, off;

    migration_save(path);
    g_assert(g_file_get_contents(path, (char **)&buf, &len, NULL));
    off = stream_find_ring_size(buf, len);
    stl_be_p(buf + off, 0);
    stq_be_p(buf + off - 16, 0);                        /* ring base 0 */
    g_assert(g_file_set_contents(path, (char *)buf, len, NULL));
    g_assert_cmpstr(migration_load(path, ""), ==, "failed");
    unlink(path);
}

static void test_pool_alignment(void)
{
    Ctx *c = machine_start(false);

    device_init(c, STATUS);
    queue_enable(c, TXQ, TX_RING, POOL + 64, VEC_TX);
    assert_error(c, SPLITNET_ERR_RING_CONFIG);
    machine_stop(c);
}

static bool intx_asserted(Ctx *c)
{
    return cfg_readl(c, PCI_COMMAND) & (PCI_STATUS_INTERRUPT << 16);
}

/* Causes latched in ISR under MSI-X come back on INTx when it is off. */
static void test_intx_after_msix(void)
{
    Ctx *c = machine_start(false);
    uint8_t cap = msix_cap(c);

    device_init(c, STATUS);
    cfg_writew(c, cap + PCI_MSIX_FLAGS, 0);
    queue_enable(c, TXQ, TX_RING, POOL, VEC_TX);
    tx_post(c, 0, TX_BUF, 100);
    g_assert_true(intx_asserted(c));
    cfg_writew(c, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    g_assert_false(intx_asserted(c));
    cfg_writew(c, cap + PCI_MSIX_FLAGS, 0);
    g_assert_true(intx_asserted(c));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_QUEUE(TXQ));
    g_assert_false(intx_asserted(c));
    machine_stop(c);
}

int main(int argc, char **argv)
{
    static Case cases[2 * P_COUNT * T_COUNT];
    int n = 0, p, t, iommu;

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/splitnet/security/crash/romd-copy", test_crash_romd_copy);
    qtest_add_func("/splitnet/security/crash/msix-clears-master",
                   test_crash_msix_clears_master);
    qtest_add_func("/splitnet/security/migration/props-mismatch",
                   test_migration_props_mismatch);
    qtest_add_func("/splitnet/security/migration/queues-mismatch",
                   test_migration_queues_mismatch);
    qtest_add_func("/splitnet/security/migration/crafted",
                   test_migration_crafted);
    qtest_add_func("/splitnet/security/pool-alignment", test_pool_alignment);
    qtest_add_func("/splitnet/security/intx-after-msix",
                   test_intx_after_msix);
    for (iommu = 0; iommu < 2; iommu++) {
        for (p = 0; p < P_COUNT; p++) {
            for (t = 0; t < T_COUNT; t++) {
                g_autofree char *path = NULL;

                cases[n] = (Case) { .p = p, .t = t, .iommu = iommu };
                path = g_strdup_printf("/splitnet/security/%s/%s/%s",
                                       iommu ? "iommu" : "no-iommu",
                                       pointers[p], targets[t].name);
                qtest_add_data_func(path, &cases[n++], test_matrix_case);
            }
        }
    }
    return g_test_run();
}
