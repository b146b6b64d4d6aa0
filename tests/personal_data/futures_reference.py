"""An independent reference of the futures accounting rules, in plain Decimal (no library import).

Written from the rules in docs/futures.md only, to check the engine against: it shares no code
with ``octobot_trading`` (sides and modes are plain strings, the contract is a small dataclass).
Every quotient is computed at 80 significant digits and rounded once to the nearest multiple of
``1e-18`` (ties to even), as the docs state; sums and products are exact in a 200-digit context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

STEP = Decimal("1e-18")
#: (symbol, side, contracts, price, margin lost)
LiqRow = tuple[str, str, Decimal, Decimal, Decimal]
_DIV = Context(prec=80)
_WIDE = Context(prec=200)


def div(a: Decimal, b: Decimal) -> Decimal:
    return _DIV.divide(a, b).quantize(STEP, rounding=ROUND_HALF_EVEN, context=_WIDE)


@dataclass
class Contract:
    symbol: str
    inverse: bool
    size: Decimal
    leverage: Decimal
    mmr: Decimal
    margin_mode: str  # "isolated" | "cross"
    position_mode: str  # "one_way" | "hedge"

    @property
    def settle(self) -> str:
        return self.symbol.split(":")[1]


@dataclass
class RefPosition:
    side: str  # "long" | "short"
    contracts: Decimal
    entry: Decimal
    margin: Decimal
    liq: Decimal | None


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Reference:
    contracts: dict[str, Contract]
    wallets: dict[str, Decimal]
    positions: dict[tuple[str, str], RefPosition] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)

    # formulas -------------------------------------------------------------
    def notional(self, c: Contract, q: Decimal, price: Decimal) -> Decimal:
        return div(q, price) if c.inverse else q * price

    def pnl(self, c: Contract, side: str, q: Decimal, entry: Decimal, exit_price: Decimal) -> Decimal:
        long = div(q, entry) - div(q, exit_price) if c.inverse else q * (exit_price - entry)
        return long if side == "long" else -long

    def new_position(self, c: Contract, side: str, contracts: Decimal, entry: Decimal) -> RefPosition:
        q = contracts * c.size
        margin = div(q, entry * c.leverage) if c.inverse else div(q * entry, c.leverage)
        return RefPosition(side, contracts, entry, margin, self.liquidation(c, side, q, entry, margin))

    def kept_cut(
        self, c: Contract, current: RefPosition, new: RefPosition, added: Decimal, price: Decimal
    ) -> RefPosition:
        """An isolated position whose margin funding cut keeps the cut through a fill: a reduce keeps
        the margin in proportion to the contracts left, a grow adds the new contracts' margin."""
        if c.margin_mode != "isolated":
            return new
        cut = self.new_position(c, current.side, current.contracts, current.entry).margin - current.margin
        if cut <= 0:
            return new
        if added:
            margin = current.margin + self.new_position(c, current.side, added, price).margin
        else:
            margin = max(new.margin - div(cut * new.contracts, current.contracts), Decimal(0))
        q = new.contracts * c.size
        return RefPosition(
            new.side, new.contracts, new.entry, margin, self.liquidation(c, new.side, q, new.entry, margin)
        )

    def liquidation(self, c: Contract, side: str, q: Decimal, entry: Decimal, margin: Decimal) -> Decimal | None:
        liq = None
        if c.margin_mode == "isolated":
            m = c.mmr
            if not c.inverse:
                num, den = (q * entry - margin, q * (1 - m)) if side == "long" else (q * entry + margin, q * (1 + m))
            else:
                at_entry = div(q, entry)
                num, den = (q * (1 + m), margin + at_entry) if side == "long" else (q * (1 - m), at_entry - margin)
            if num > 0 and den > 0:
                price = div(num, den)
                liq = price if price > 0 else None
        return liq

    def upnl(self, symbol: str, p: RefPosition) -> Decimal:
        c = self.contracts[symbol]
        return self.pnl(c, p.side, p.contracts * c.size, p.entry, self.marks.get(symbol, p.entry))

    def maintenance(self, symbol: str, p: RefPosition) -> Decimal:
        c = self.contracts[symbol]
        return max(self.notional(c, p.contracts * c.size, self.marks.get(symbol, p.entry)) * c.mmr, Decimal(0))

    def available(self, currency: str, positions: dict[tuple[str, str], RefPosition], wallet: Decimal) -> Decimal:
        total = wallet
        for (symbol, _), p in positions.items():
            c = self.contracts[symbol]
            if c.settle != currency:
                continue
            total -= p.margin
            if c.margin_mode == "cross":
                total += self.upnl(symbol, p)
        return total

    # events ---------------------------------------------------------------
    def fill(
        self,
        symbol: str,
        side: str,
        contracts: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        reduce_only: bool = False,
        position_side: str | None = None,
    ) -> tuple[Decimal, Decimal]:
        """Apply a fill; return (realized PnL, fee) or raise Refused."""
        with localcontext(_WIDE):
            c = self.contracts[symbol]
            direction = "long" if side == "buy" else "short"
            if c.position_mode == "hedge":
                if position_side not in ("long", "short"):
                    raise Refused("position_side")
                slot = position_side
                current = self.positions.get((symbol, slot))
                closing = direction != position_side
                if closing and (current is None or contracts > current.contracts):
                    raise Refused("reduce_only" if reduce_only else "amount")
                if reduce_only and not closing:
                    raise Refused("reduce_only")
            else:
                if position_side is not None:
                    raise Refused("position_side")
                slot = "both"
                current = self.positions.get((symbol, slot))
                closing = current is not None and current.side != direction
                if reduce_only and (not closing or current is None or contracts > current.contracts):
                    raise Refused("reduce_only")
            fee = self.notional(c, contracts * c.size, price) * fee_rate
            realized, opened = Decimal(0), contracts
            new: RefPosition | None
            if current is not None and closing:
                closed = min(contracts, current.contracts)
                opened = contracts - closed
                realized = self.pnl(c, current.side, closed * c.size, current.entry, price)
                left = current.contracts - closed
                new = self.new_position(c, current.side, left, current.entry) if left else None
                if new is not None:
                    new = self.kept_cut(c, current, new, Decimal(0), price)
                if opened:
                    new = self.new_position(c, direction, opened, price)
            elif current is not None:
                q_old, q_add = current.contracts * c.size, contracts * c.size
                if c.inverse:
                    entry = div(q_old + q_add, div(q_old, current.entry) + div(q_add, price))
                else:
                    entry = div(q_old * current.entry + q_add * price, q_old + q_add)
                new = self.kept_cut(
                    c,
                    current,
                    self.new_position(c, current.side, current.contracts + contracts, entry),
                    contracts,
                    price,
                )
            else:
                new = self.new_position(c, direction, contracts, price)
            after = dict(self.positions)
            if new is None:
                after.pop((symbol, slot), None)
            else:
                after[(symbol, slot)] = new
            wallet = self.wallets.get(c.settle, Decimal(0)) + realized - fee
            room = self.available(c.settle, after, wallet)
            if opened and c.margin_mode == "cross" and symbol in self.marks:
                # judged at its own price: the profit the new contracts show at the mark is not credited
                room -= max(self.pnl(c, direction, opened * c.size, price, self.marks[symbol]), Decimal(0))
            if opened and room < 0:
                raise Refused("insufficient")
            self.positions = after
            self.wallets[c.settle] = wallet
            return realized, fee

    def set_mark(self, symbol: str, price: Decimal) -> None:
        self.marks[symbol] = price

    def funding(self, symbol: str, rate: Decimal) -> list[tuple[str, Decimal]]:
        with localcontext(_WIDE):
            c, mark = self.contracts[symbol], self.marks[symbol]
            out = []
            due = []
            for (sym, slot), p in sorted(self.positions.items()):
                if sym != symbol:
                    continue
                amount = self.notional(c, p.contracts * c.size, mark) * rate
                due.append((sym, slot, p, -amount if p.side == "long" else amount))
            receivers = [d for d in due if d[3] >= 0]  # received before another position pays
            for sym, slot, p, amount in receivers + [d for d in due if d[3] < 0]:
                if amount < 0 and c.margin_mode == "isolated":
                    # paid from the free wallet first, the rest from the position's own margin
                    held = sum(
                        (o.margin for (s, _), o in self.positions.items() if self.contracts[s].settle == c.settle),
                        Decimal(0),
                    )
                    free = max(self.wallets.get(c.settle, Decimal(0)) - held, Decimal(0))
                    if -amount > free:
                        taken = min(-amount - free, p.margin)
                        left = p.margin - taken
                        q_size = p.contracts * c.size
                        liq = self.liquidation(c, p.side, q_size, p.entry, left)
                        self.positions[(sym, slot)] = RefPosition(p.side, p.contracts, p.entry, left, liq)
                        amount = -(free + taken)
                self.wallets[c.settle] += amount
                out.append((p.side, amount))
            return out

    def isolated_liquidations(self, symbol: str, path: list[Decimal]) -> list[LiqRow]:
        out = []
        with localcontext(_WIDE):
            for key, p in sorted(self.positions.items()):
                c = self.contracts[key[0]]
                if key[0] != symbol or c.margin_mode != "isolated" or p.liq is None:
                    continue
                hit = any(x <= p.liq for x in path) if p.side == "long" else any(x >= p.liq for x in path)
                if hit:
                    del self.positions[key]
                    self.wallets[c.settle] -= p.margin
                    out.append((symbol, p.side, p.contracts, p.liq, p.margin))
        return out

    def cross_liquidations(self, currency: str) -> list[LiqRow]:
        with localcontext(_WIDE):
            mine = [(k, p) for k, p in sorted(self.positions.items()) if self.contracts[k[0]].settle == currency]
            cross = [(k, p) for k, p in mine if self.contracts[k[0]].margin_mode == "cross"]
            if not cross:
                return []
            isolated = sum((p.margin for k, p in mine if self.contracts[k[0]].margin_mode == "isolated"), Decimal(0))
            balance = self.wallets[currency] - isolated + sum((self.upnl(k[0], p) for k, p in cross), Decimal(0))
            if balance > sum((self.maintenance(k[0], p) for k, p in cross), Decimal(0)):
                return []
            cross.sort(key=lambda kp: self.upnl(kp[0][0], kp[1]) < 0)
            out = []
            for key, p in cross:
                pnl = self.upnl(key[0], p)
                if pnl < 0:
                    pnl = max(pnl, min(isolated - self.wallets[currency], Decimal(0)))
                del self.positions[key]
                self.wallets[currency] += pnl
                out.append((key[0], p.side, p.contracts, self.marks.get(key[0], p.entry), -pnl))
            return out
