import ApusCodegenCorpus
import ApusRPC
import ApusThrift
import Testing

/// One large value per corpus IDL (Tests/ApusCodegenCorpus), through both
/// protocols: the generated code for 60-field structs, cross-file types,
/// unions (recursive ones too) and defaults builds, encodes and decodes.
@Suite struct CorpusRoundTripTests {
    static func roundTrip<T: ThriftCodable & Equatable>(_ value: T, _ protocolID: ThriftProtocolID) throws -> T {
        try Thrift.decode(T.self, from: Thrift.encode(value, protocol: protocolID), protocol: protocolID)
    }

    static func usd(_ units: Int64) -> Money { Money(currency: "USD", units: units, nanos: 0) }
    static let context = RequestContext(requestId: "req-1", traceId: "4bf92f3577b34da6a3ce929d0e0e4736", tenantId: "acme", deadlineMs: 250)
    static let address = PostalAddress(
        recipient: "Ada Lovelace", streetLines: ["12 St James's Square", "Flat 3"], locality: "London", postalCode: "SW1Y 4JH",
        country: "GB", kind: .residential, coordinates: LatLng(latitude: 51.5074, longitude: -0.1342), validated: true
    )

    @Test(arguments: ThriftProtocolID.allCases) func auctionRequest(_ protocolID: ThriftProtocolID) throws {
        let impression = Impression(
            id: "imp-1", banner: Banner(formats: [Format(w: 300, h: 250), Format(w: 728, h: 90)], blockedAttributes: [.pop, .flashing]),
            bidFloor: Money(currency: "EUR", units: 0, nanos: 450_000_000), deals: [DealTerms(dealId: "deal-9", type: .preferredDeal)],
            viewabilityPrediction: 0.72, acceptedFormats: [.banner, .native]
        )
        let request = AuctionRequest(
            auctionId: "auc-1", impressions: [impression], site: SiteInfo(siteId: "site-4", domain: "news.example", categories: ["IAB12"]),
            device: DeviceInfo(platform: .ios, osVersion: "17.5", screenWidth: 1179, connection: .cellular5g, limitAdTracking: true),
            user: BidderUser(ageBracket: .age2534, extendedIds: ["uid2": "Ab3x"]), test: true, auctionType: .secondPrice, tmaxMs: 95,
            currencies: ["EUR", "USD"], regulations: Regulations(gdprApplies: true, gppSectionIds: [2, 6]), context: Self.context,
            fraudScore: 0.01, impressionFloors: ["imp-1": Self.usd(1)], ipLocation: GeoPoint(position: LatLng(latitude: 48.1, longitude: 11.6)),
            firstPartyData: ["interests": ["cycling", "jazz"]], featureFlags: ["shading-v2"], isReload: true,
            floorRule: PriceRule(ruleId: "r1", price: Self.usd(2), discount: .percentOff(PercentOff(basisPoints: 500))), ext: ["k": "v"]
        )
        #expect(try Self.roundTrip(request, protocolID) == request)
        #expect(AuctionRequest().tmaxMs == ExchangeConstants.defaultTmaxMs && AuctionRequest().finalDecisionUpstream)
    }

    @Test(arguments: ThriftProtocolID.allCases) func product(_ protocolID: ThriftProtocolID) throws {
        let sku = Sku(
            skuId: "sku-1", productId: "p-1", gtin: "04006381333931", options: [AttributeValue(name: "colour", text: "teal")],
            price: Self.usd(129), priceRules: [PriceRule(ruleId: "member", kind: .member, price: Self.usd(119), tiers: [PriceTier(minimumQuantity: 3, unitPrice: Self.usd(110))])],
            dimensions: Dimensions(lengthMm: 310, weightGrams: 1250.5), stock: .lowStock, availableQuantity: 4, taxCategory: .reduced
        )
        let product = Product(
            productId: "p-1", title: "Trail running shoe", description: "Grippy.", status: .active, condition: .new,
            brand: Brand(brandId: "b-1", name: "Fjellsko", originCountry: "NO"), categories: ["shoes", "running"], skus: [sku],
            media: [MediaAsset(url: "https://img.example/p-1.webp", width: 1200, primary: true, renditions: ["thumb": "https://img.example/t.webp"])],
            tags: ["trail", "waterproof"], rating: RatingSummary(average: 4.6, count: 212, histogram: [5: 160, 4: 40, 1: 12]),
            priceRange: MoneyRange(minimum: Self.usd(119), maximum: Self.usd(129)), fulfilment: [.shipFromWarehouse, .shipFromStore],
            sellableIn: ["NO", "SE"], ageRestriction: .age16, returnWindowDays: 60, lastEdit: AuditStamp(at: 1_717_000_000_000, actor: "merch"),
            version: 7, localizedTitles: ["nb": "Terrengløpesko"], conversionRate30d: 0.031, featured: true,
            availabilityWindow: TimeRange(startMillis: 1, endMillis: 2), launchDiscount: .freeShipping(true), carbonFootprintKg: 9.5
        )
        #expect(try Self.roundTrip(product, protocolID) == product)
        #expect(Product().returnWindowDays == 30 && Product().status == .draft && Sku().maxPerOrder == 10)
    }

    @Test(arguments: ThriftProtocolID.allCases) func order(_ protocolID: ThriftProtocolID) throws {
        let line = LineItem(
            lineId: "l1", skuId: "sku-1", productId: "p-1", quantity: 2, unitPrice: Self.usd(129),
            discounts: [.amountOff(Self.usd(10))], taxes: [TaxLine(jurisdiction: "US-CA", rate: 725, amount: Self.usd(18))],
            lineTotal: Self.usd(266), gift: GiftOptions(giftWrap: true, message: "Happy birthday 🎂")
        )
        let order = Order(
            orderId: "o-1", orderNumber: "M-1001", tenantId: "acme", memberId: "m-7", state: .partiallyShipped, channel: .storefrontApp,
            lines: [line], totals: AmountBreakdown(subtotal: Self.usd(258), taxes: line.taxes, grandTotal: Self.usd(276)),
            shippingAddress: Self.address,
            shipments: [Shipment(shipmentId: "s-1", orderId: "o-1", lineQuantities: ["l1": 1], state: .inTransit, events: [TrackingEvent(at: 5, state: .pickedUp)])],
            fraud: FraudAssessment(score: 0.02, signals: ["new_device"]),
            events: [
                OrderEvent(sequence: 1, at: 10, detail: .stateChanged(.confirmed)),
                OrderEvent(sequence: 2, at: 11, detail: .addressChanged(Self.address)),
            ],
            device: DeviceInfo(platform: .android), splitOrderIds: ["o-1a"], testOrder: true, version: 3, tags: ["vip": "yes"],
            loyaltyPointsEarned: 276, requiresAgeVerification: true
        )
        #expect(try Self.roundTrip(order, protocolID) == order)
    }

    @Test(arguments: ThriftProtocolID.allCases) func ledger(_ protocolID: ThriftProtocolID) throws {
        let dispute = Dispute(
            disputeId: "dp-1", paymentId: "pay-9", orderId: "o-1", amount: Money(currency: "EUR", units: 49, nanos: 990_000_000),
            stage: .chargeback, category: .productNotReceived, card: CardDetails(brand: "visa", last4: "4242", threeDSecureUsed: true),
            evidence: Evidence(shippingTrackingNumber: "1Z999", attachmentUrls: ["https://files.example/pod.pdf"]),
            history: [AuditStamp(at: 1, actor: "risk"), AuditStamp(at: 2, reason: "evidence sent")], networkLiabilityShift: true
        )
        let entry = JournalEntry(
            entryId: "je-1", postings: [
                Posting(accountId: "merchant:acme", amount: -4_999, currency: "EUR"),
                Posting(accountId: "reserves", amount: 4_999, currency: "EUR", memo: "dispute hold"),
            ], state: .posted, effectiveAt: 1_717_000_000_000, metadata: ["dispute": "dp-1"]
        )
        #expect(try Self.roundTrip(dispute, protocolID) == dispute)
        let event = LedgerEvent.entryPosted(entry)
        #expect(try Self.roundTrip(event, protocolID) == event)
        #expect(LedgerConstants.dailyPayoutLimitsMinor["EUR"] == 45_000_000)
    }

    @Test(arguments: ThriftProtocolID.allCases) func feed(_ protocolID: ThriftProtocolID) throws {
        let features = RankingFeatures(
            authorAffinity: 0.8, viewerSessionDepth: 14, postAgeMinutes: 37.5, postToxicityScore: 0.001, geoDistanceKm: 2.4,
            predictedLike: 0.12, positionInCandidateList: 3, experimentalFeatureB: -1, authorEmbedding: [0.1, -0.2, 0.3],
            sparseFeatures: ["topic:cycling": 1]
        )
        let post = FeedPost(
            postId: "post-1", authorId: "m-7", body: .poll(Poll(options: ["yes", "no"], votes: [0: 10, 1: 3])), hashtags: ["vote"],
            visibility: .followers, createdAt: 1_717_000_000_000, likeCount: 13, reactionCounts: [.like: 10, .wow: 3], pinned: true
        )
        let item = RankedItem(post: post, score: 912_000, source: .trending, features: features, previewComments: [
            FeedComment(commentId: "c-1", postId: "post-1", authorId: "m-8", text: "Ja! 👍", createdAt: 1_717_000_000_100)
        ])
        #expect(try Self.roundTrip(item, protocolID) == item)
    }

    @Test(arguments: ThriftProtocolID.allCases) func search(_ protocolID: ThriftProtocolID) throws {
        let document = SearchDocument(
            documentId: "doc-p-1", title: "Trail running shoe", keywords: ["trail", "shoe"], categoryPath: ["Sports", "Running"],
            productId: "p-1", price: Self.usd(129), rating: 4.6, inStock: true, fulfilment: [.shipFromStore], location: LatLng(latitude: 59.9, longitude: 10.7),
            facets: ["size": ["42", "43"]], numericFacets: ["weight": 310], titleEmbedding: [0.25, -0.5], condition: .new, version: 12
        )
        let query = SearchQuery(
            text: "waterproof trail shoe",
            filters: [
                .allOf([.terms(["brand": ["Fjellsko"]]), .negated(.exists("discontinuedAt")), .range(RangeFilter(field: "price", lessThan: 150))]),
                .anyOf([.nearby(GeoFilter(center: LatLng(latitude: 59.9, longitude: 10.7), radiusKm: 25))]),
            ],
            facets: [FacetRequest(field: "size", size: 20)], sort: .price, direction: .ascending, kinds: [.productDocument]
        )
        #expect(try Self.roundTrip(document, protocolID) == document)
        #expect(try Self.roundTrip(query, protocolID) == query)
        let result = SearchResult(hits: [SearchHit(documentId: "doc-p-1", score: 7.25, document: document)], totalHits: 1)
        #expect(try Self.roundTrip(result, protocolID) == result)
    }

    /// Services extend across files; `search` returns the IDL's SearchResult,
    /// so its nested result struct is `SearchResult_`.
    @Test func serviceShapes() {
        #expect(OrderService.Method.all.count == CartService.Method.all.count + 18)
        #expect(IndexerService.Method.all.map(\.method).starts(with: BaseService.Method.all.map(\.method)))
        #expect(SearchService.SearchResult_(success: SearchResult(totalHits: 3)).success?.totalHits == 3)
        #expect(AdExchange.Method.recordClick.kind == .oneway && AdExchange.Method.deliveryReport.isIdempotent)
    }
}
