package crm

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// RegisterCampaigns mounts the outbound campaigns' routes on g (the
// authenticated /api/v1 group), under /crm/campaigns (/campaigns is the
// geolocated offers'). read guards the reads, manage the changes.
//
//	GET  /crm/campaigns                                   {"campaigns": [...]}
//	POST /crm/campaigns {name, segment_id, networks, template, start_at}   the draft (201)
//	GET  /crm/campaigns/:id                               the campaign with its stats
//	POST /crm/campaigns/:id/start|pause|cancel            the campaign
//	GET  /crm/campaigns/:id/recipients?status=&limit=&cursor=
//	                                                      {"recipients": [...], "next_cursor"}
func (h *Handler) RegisterCampaigns(g *echo.Group, read, manage echo.MiddlewareFunc) {
	g.GET("/crm/campaigns", h.campaigns, read)
	g.POST("/crm/campaigns", h.createCampaign, manage)
	g.GET("/crm/campaigns/:id", h.campaign, read)
	g.GET("/crm/campaigns/:id/recipients", h.recipients, read)
	for _, a := range []CampaignAction{ActionStart, ActionPause, ActionCancel} {
		g.POST("/crm/campaigns/:id/"+string(a), h.changeCampaign(a), manage)
	}
}

func (h *Handler) campaigns(c echo.Context) error {
	cs, err := h.CRM.Campaigns(c.Request().Context())
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": cs})
}

func (h *Handler) createCampaign(c echo.Context) error {
	var req CampaignRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	cp, err := h.CRM.CreateCampaign(c.Request().Context(), req, h.who(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, cp)
}

func (h *Handler) campaign(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	cp, err := h.CRM.Campaign(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, cp)
}

func (h *Handler) changeCampaign(a CampaignAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		cp, err := h.CRM.ChangeCampaign(c.Request().Context(), id, a)
		if err != nil {
			return httpError(err)
		}
		return c.JSON(http.StatusOK, cp)
	}
}

func (h *Handler) recipients(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	page, err := h.CRM.Recipients(c.Request().Context(), id, RecipientStatus(c.QueryParam("status")), limit, c.QueryParam("cursor"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, page)
}
